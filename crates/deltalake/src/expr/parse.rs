//! A recursive-descent parser for SQL predicates and scalar expressions.
//!
//! Grammar, loosest binding first:
//!
//! ```text
//! expr      := and (OR and)*
//! and       := not (AND not)*
//! not       := NOT not | predicate
//! predicate := sum [ cmp sum | IS [NOT] NULL | IS [NOT] DISTINCT FROM sum
//!                  | [NOT] IN '(' expr, ... ')' | [NOT] BETWEEN sum AND sum
//!                  | [NOT] (LIKE | ILIKE) sum [ESCAPE 'c'] ]
//! sum       := product (('+' | '-') product)*
//! product   := unary (('*' | '/' | '%') unary)*
//! unary     := ('-' | '+') unary | atom
//! atom      := literal | '(' expr ')' | CAST '(' expr AS type ')' | name '(' args ')' | path
//! ```

use super::{BinaryOp, Expr, Function};
use crate::error::{DeltaError, DeltaResult};
use crate::protocol::{PrimitiveType, Scalar};

/// Words that cannot be used as bare column names (quote them: `` `date` `` or `"date"`).
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "is",
    "null",
    "in",
    "between",
    "like",
    "ilike",
    "escape",
    "cast",
    "as",
    "true",
    "false",
    "distinct",
    "from",
    "date",
    "timestamp",
    "timestamp_ntz",
];

/// Whether `word` is reserved by the parser (case-insensitive).
pub(crate) fn is_keyword(word: &str) -> bool {
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word))
}

/// How deeply expressions may nest (parentheses, `NOT`, signs, calls): deeper input is a syntax
/// error, not a stack overflow here or in the recursive passes over the expression.
const MAX_NESTING: usize = 100;

/// Keywords that start typed literals but are otherwise ordinary column names.
fn is_type_word(lower: &str) -> bool {
    matches!(lower, "date" | "timestamp" | "timestamp_ntz")
}

/// Parse a SQL expression such as `year = 2021 AND name LIKE 'a%'` or `a.b + 1 > 3`.
///
/// Identifiers are case-insensitive column names; quote other names with double quotes or
/// backticks (`"my col"`, `` `a.b` ``). Literals: `'text'` (a quote doubled inside), numbers
/// (`12` is a long, `1.5` a decimal, `1.5e0` a double), `TRUE`, `FALSE`, `NULL`,
/// `DATE 'yyyy-mm-dd'`, `TIMESTAMP '...'` (UTC unless an offset is given), `TIMESTAMP_NTZ '...'`
/// and `X'hex'`.
pub fn parse_predicate(sql: &str) -> DeltaResult<Expr> {
    let tokens = tokenize(sql)?;
    let mut parser = Parser {
        sql,
        tokens,
        pos: 0,
        depth: 0,
    };
    let expr = parser.expr()?;
    if !parser.at(&Tok::End) {
        return Err(parser.error("end of expression"));
    }
    Ok(expr)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A bare word (identifier or keyword).
    Word(String),
    /// A quoted identifier.
    Quoted(String),
    /// A string literal.
    Str(String),
    /// A hexadecimal binary literal `X'..'`.
    Hex(Vec<u8>),
    /// A number as written.
    Number(String),
    /// Punctuation or an operator.
    Sym(&'static str),
    End,
}

impl std::fmt::Display for Tok {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tok::Word(w) => write!(f, "'{w}'"),
            Tok::Quoted(w) => write!(f, "identifier \"{w}\""),
            Tok::Str(s) => write!(f, "string '{s}'"),
            Tok::Hex(_) => f.write_str("binary literal"),
            Tok::Number(n) => write!(f, "number {n}"),
            Tok::Sym(s) => write!(f, "'{s}'"),
            Tok::End => f.write_str("end of expression"),
        }
    }
}

fn syntax_error(sql: &str, offset: usize, message: impl std::fmt::Display) -> DeltaError {
    DeltaError::InvalidExpression(format!("syntax error at offset {offset} of \"{sql}\": {message}"))
}

const SYMBOLS: &[&str] = &[
    "<=>", "<=", ">=", "<>", "!=", "==", "=", "<", ">", "+", "-", "*", "/", "%", "(", ")", ",", ".",
];

fn tokenize(sql: &str) -> DeltaResult<Vec<(Tok, usize)>> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let tok = if c == b'\'' {
            let (text, end) = quoted(sql, i, '\'')?;
            i = end;
            Tok::Str(text)
        } else if c == b'"' || c == b'`' {
            let (text, end) = quoted(sql, i, c as char)?;
            i = end;
            Tok::Quoted(text)
        } else if (c == b'x' || c == b'X') && bytes.get(i + 1) == Some(&b'\'') {
            let (text, end) = quoted(sql, i + 1, '\'')?;
            i = end;
            Tok::Hex(decode_hex(&text).ok_or_else(|| syntax_error(sql, start, "invalid hexadecimal literal"))?)
        } else if c.is_ascii_digit() || c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
            i = number_end(bytes, i);
            if bytes.get(i).is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_') {
                return Err(syntax_error(sql, start, "invalid number"));
            }
            Tok::Number(sql[start..i].to_string())
        } else if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] >= 0x80) {
                i += 1;
            }
            Tok::Word(sql[start..i].to_string())
        } else {
            let sym = SYMBOLS.iter().find(|s| sql[i..].starts_with(**s)).ok_or_else(|| {
                syntax_error(
                    sql,
                    start,
                    format!("unexpected character '{}'", &sql[i..].chars().next().unwrap_or(' ')),
                )
            })?;
            i += sym.len();
            Tok::Sym(sym)
        };
        out.push((tok, start));
    }
    out.push((Tok::End, sql.len()));
    Ok(out)
}

/// Text between `quote` characters starting at `start` (a doubled quote stands for itself), and
/// the offset after the closing quote.
fn quoted(sql: &str, start: usize, quote: char) -> DeltaResult<(String, usize)> {
    let mut text = String::new();
    let mut chars = sql[start + 1..].char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == quote {
            if chars.peek().is_some_and(|(_, n)| *n == quote) {
                chars.next();
                text.push(quote);
                continue;
            }
            return Ok((text, start + 1 + i + 1));
        }
        text.push(c);
    }
    Err(syntax_error(sql, start, format!("unterminated {quote}...{quote}")))
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn number_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(bytes.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if bytes.get(j).is_some_and(u8::is_ascii_digit) {
            i = j;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    i
}

/// The literal a number denotes: a long if it is an integer that fits, a decimal if it has a
/// fraction (or is too big for a long), a double if written with an exponent.
fn number_literal(text: &str, negative: bool) -> Option<Scalar> {
    let signed = if negative { format!("-{text}") } else { text.to_string() };
    if text.contains(['e', 'E']) {
        return signed.parse().ok().map(Scalar::Double);
    }
    if !text.contains('.')
        && let Ok(v) = signed.parse::<i64>()
    {
        return Some(Scalar::Long(v));
    }
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let int = int.trim_start_matches('0');
    let scale = frac.len();
    let precision = (int.len() + scale).max(1);
    if precision > 38 {
        return signed.parse().ok().map(Scalar::Double);
    }
    let unscaled: i128 = format!("{int}{frac}").parse().unwrap_or(0);
    let unscaled = if negative { -unscaled } else { unscaled };
    Some(Scalar::Decimal(
        unscaled,
        u8::try_from(precision).ok()?,
        i8::try_from(scale).ok()?,
    ))
}

/// A type name as `CAST` accepts it.
fn type_from_name(name: &str) -> Option<PrimitiveType> {
    use PrimitiveType as P;
    Some(match name.to_ascii_lowercase().as_str() {
        "boolean" | "bool" => P::Boolean,
        "tinyint" | "byte" => P::Byte,
        "smallint" | "short" => P::Short,
        "int" | "integer" => P::Integer,
        "bigint" | "long" => P::Long,
        "float" | "real" => P::Float,
        "double" => P::Double,
        "string" | "varchar" | "char" | "text" => P::String,
        "binary" => P::Binary,
        "date" => P::Date,
        "timestamp" => P::Timestamp,
        "timestamp_ntz" => P::TimestampNtz,
        "decimal" | "numeric" | "dec" => P::Decimal(10, 0),
        _ => return None,
    })
}

struct Parser<'a> {
    sql: &'a str,
    tokens: Vec<(Tok, usize)>,
    pos: usize,
    /// Nesting level of the rule being parsed.
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.tokens[self.pos.min(self.tokens.len() - 1)].0
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        &self.tokens[(self.pos + ahead).min(self.tokens.len() - 1)].0
    }

    fn advance(&mut self) -> Tok {
        let tok = self.peek().clone();
        self.pos += 1;
        tok
    }

    fn at(&self, tok: &Tok) -> bool {
        self.peek() == tok
    }

    fn at_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Tok::Word(w) if w.eq_ignore_ascii_case(keyword))
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        let hit = self.at_keyword(keyword);
        if hit {
            self.advance();
        }
        hit
    }

    fn eat_sym(&mut self, sym: &str) -> bool {
        let hit = matches!(self.peek(), Tok::Sym(s) if *s == sym);
        if hit {
            self.advance();
        }
        hit
    }

    fn error(&self, expected: &str) -> DeltaError {
        let (tok, offset) = &self.tokens[self.pos.min(self.tokens.len() - 1)];
        syntax_error(self.sql, *offset, format!("expected {expected}, found {tok}"))
    }

    fn expect_sym(&mut self, sym: &str) -> DeltaResult<()> {
        if self.eat_sym(sym) {
            Ok(())
        } else {
            Err(self.error(&format!("'{sym}'")))
        }
    }

    fn expect_keyword(&mut self, keyword: &str) -> DeltaResult<()> {
        if self.eat_keyword(keyword) {
            Ok(())
        } else {
            Err(self.error(keyword))
        }
    }

    /// Run `rule` one nesting level deeper, failing beyond [`MAX_NESTING`].
    fn nested(&mut self, rule: fn(&mut Self) -> DeltaResult<Expr>) -> DeltaResult<Expr> {
        if self.depth >= MAX_NESTING {
            let offset = self.tokens[self.pos.min(self.tokens.len() - 1)].1;
            return Err(syntax_error(
                self.sql,
                offset,
                format!("expression nested too deeply (more than {MAX_NESTING} levels)"),
            ));
        }
        self.depth += 1;
        let result = rule(self);
        self.depth -= 1;
        result
    }

    fn expr(&mut self) -> DeltaResult<Expr> {
        self.nested(Self::disjunction)
    }

    fn disjunction(&mut self) -> DeltaResult<Expr> {
        let mut left = self.and()?;
        while self.eat_keyword("or") {
            left = left.or(self.and()?);
        }
        Ok(left)
    }

    fn and(&mut self) -> DeltaResult<Expr> {
        let mut left = self.not()?;
        while self.eat_keyword("and") {
            left = left.and(self.not()?);
        }
        Ok(left)
    }

    fn not(&mut self) -> DeltaResult<Expr> {
        if self.eat_keyword("not") {
            return Ok(!self.nested(Self::not)?);
        }
        self.predicate()
    }

    fn predicate(&mut self) -> DeltaResult<Expr> {
        let left = self.sum()?;
        if let Tok::Sym(sym) = self.peek() {
            let op = match *sym {
                "=" | "==" => Some(BinaryOp::Eq),
                "!=" | "<>" => Some(BinaryOp::NotEq),
                "<" => Some(BinaryOp::Lt),
                "<=" => Some(BinaryOp::LtEq),
                ">" => Some(BinaryOp::Gt),
                ">=" => Some(BinaryOp::GtEq),
                "<=>" => Some(BinaryOp::NullSafeEq),
                _ => None,
            };
            if let Some(op) = op {
                self.advance();
                let right = self.sum()?;
                return Ok(super::boxed_binary(op, left, right));
            }
        }
        if self.eat_keyword("is") {
            let negated = self.eat_keyword("not");
            if self.eat_keyword("null") {
                return Ok(Expr::IsNull {
                    expr: Box::new(left),
                    negated,
                });
            }
            if self.eat_keyword("distinct") {
                self.expect_keyword("from")?;
                let same = left.null_safe_eq(self.sum()?);
                return Ok(if negated { same } else { !same });
            }
            return Err(self.error("NULL or DISTINCT FROM"));
        }
        let negated = self.at_keyword("not")
            && matches!(self.peek_at(1), Tok::Word(w) if ["in", "between", "like", "ilike"].iter().any(|k| w.eq_ignore_ascii_case(k)));
        if negated {
            self.advance();
        }
        if self.eat_keyword("in") {
            self.expect_sym("(")?;
            let mut list = vec![self.expr()?];
            while self.eat_sym(",") {
                list.push(self.expr()?);
            }
            self.expect_sym(")")?;
            return Ok(Expr::InList {
                expr: Box::new(left),
                list,
                negated,
            });
        }
        if self.eat_keyword("between") {
            let low = self.sum()?;
            self.expect_keyword("and")?;
            let high = self.sum()?;
            return Ok(Expr::Between {
                expr: Box::new(left),
                low: Box::new(low),
                high: Box::new(high),
                negated,
            });
        }
        let case_insensitive = self.at_keyword("ilike");
        if self.eat_keyword("like") || self.eat_keyword("ilike") {
            let pattern = self.sum()?;
            let escape = if self.eat_keyword("escape") {
                match self.advance() {
                    Tok::Str(s) if s.chars().count() == 1 => s.chars().next(),
                    _ => {
                        self.pos -= 1;
                        return Err(self.error("a one-character string after ESCAPE"));
                    }
                }
            } else {
                None
            };
            return Ok(Expr::Like {
                expr: Box::new(left),
                pattern: Box::new(pattern),
                escape: escape.filter(|c| *c != '\\'),
                negated,
                case_insensitive,
            });
        }
        Ok(left)
    }

    fn sum(&mut self) -> DeltaResult<Expr> {
        let mut left = self.product()?;
        loop {
            if self.eat_sym("+") {
                left = left + self.product()?;
            } else if self.eat_sym("-") {
                left = left - self.product()?;
            } else {
                return Ok(left);
            }
        }
    }

    fn product(&mut self) -> DeltaResult<Expr> {
        let mut left = self.unary()?;
        loop {
            if self.eat_sym("*") {
                left = left * self.unary()?;
            } else if self.eat_sym("/") {
                left = left / self.unary()?;
            } else if self.eat_sym("%") {
                left = left % self.unary()?;
            } else {
                return Ok(left);
            }
        }
    }

    fn unary(&mut self) -> DeltaResult<Expr> {
        if self.eat_sym("+") {
            return self.nested(Self::unary);
        }
        if self.eat_sym("-") {
            // Fold the sign into a number so that `-9223372036854775808` is a long.
            if let Tok::Number(text) = self.peek().clone() {
                self.advance();
                return self.number(&text, true);
            }
            return Ok(-self.nested(Self::unary)?);
        }
        self.atom()
    }

    fn number(&mut self, text: &str, negative: bool) -> DeltaResult<Expr> {
        number_literal(text, negative).map(Expr::Literal).ok_or_else(|| {
            self.pos -= 1;
            self.error("a valid number")
        })
    }

    fn typed_string(&mut self, ty: PrimitiveType) -> DeltaResult<Expr> {
        let Tok::Str(text) = self.advance() else {
            self.pos -= 1;
            return Err(self.error("a string literal"));
        };
        Scalar::parse(&text, ty).map(Expr::Literal).ok_or_else(|| {
            self.pos -= 1;
            self.error(&format!("a valid {ty} literal"))
        })
    }

    fn atom(&mut self) -> DeltaResult<Expr> {
        match self.advance() {
            Tok::Number(text) => self.number(&text, false),
            Tok::Str(text) => Ok(Expr::Literal(Scalar::String(text))),
            Tok::Hex(bytes) => Ok(Expr::Literal(Scalar::Binary(bytes))),
            Tok::Sym("(") => {
                let e = self.expr()?;
                self.expect_sym(")")?;
                Ok(e)
            }
            Tok::Quoted(name) => self.path(name),
            Tok::Word(word) => {
                let lower = word.to_ascii_lowercase();
                match lower.as_str() {
                    "true" => Ok(Expr::Literal(Scalar::Boolean(true))),
                    "false" => Ok(Expr::Literal(Scalar::Boolean(false))),
                    "null" => Ok(Expr::Literal(Scalar::Null(PrimitiveType::String))),
                    "date" if matches!(self.peek(), Tok::Str(_)) => self.typed_string(PrimitiveType::Date),
                    "timestamp" if matches!(self.peek(), Tok::Str(_)) => self.typed_string(PrimitiveType::Timestamp),
                    "timestamp_ntz" if matches!(self.peek(), Tok::Str(_)) => {
                        self.typed_string(PrimitiveType::TimestampNtz)
                    }
                    "cast" if self.at(&Tok::Sym("(")) => self.cast(),
                    _ if self.at(&Tok::Sym("(")) => self.call(&word),
                    _ if is_keyword(&word) && !is_type_word(&lower) => {
                        self.pos -= 1;
                        Err(self.error("an expression (quote column names that are keywords)"))
                    }
                    _ => self.path(word),
                }
            }
            _ => {
                self.pos -= 1;
                Err(self.error("an expression"))
            }
        }
    }

    fn path(&mut self, first: String) -> DeltaResult<Expr> {
        let mut path = vec![first];
        while self.eat_sym(".") {
            match self.advance() {
                Tok::Word(w) | Tok::Quoted(w) => path.push(w),
                _ => {
                    self.pos -= 1;
                    return Err(self.error("a field name after '.'"));
                }
            }
        }
        Ok(Expr::Column(path))
    }

    fn cast(&mut self) -> DeltaResult<Expr> {
        self.expect_sym("(")?;
        let e = self.expr()?;
        self.expect_keyword("as")?;
        let Tok::Word(name) = self.advance() else {
            self.pos -= 1;
            return Err(self.error("a type name"));
        };
        let mut ty = type_from_name(&name).ok_or_else(|| {
            self.pos -= 1;
            self.error("a type name (boolean, tinyint, smallint, int, bigint, float, double, decimal(p,s), string, binary, date, timestamp, timestamp_ntz)")
        })?;
        if self.eat_sym("(") {
            let mut args = Vec::new();
            loop {
                match self.advance() {
                    Tok::Number(n) => args.push(n.parse::<u8>().map_err(|_| self.error("a small number"))?),
                    _ => {
                        self.pos -= 1;
                        return Err(self.error("a number"));
                    }
                }
                if !self.eat_sym(",") {
                    break;
                }
            }
            self.expect_sym(")")?;
            ty = match (ty, args.as_slice()) {
                (PrimitiveType::Decimal(..), [p]) if (1..=38).contains(p) => PrimitiveType::Decimal(*p, 0),
                (PrimitiveType::Decimal(..), [p, s]) if (1..=38).contains(p) && s <= p => {
                    PrimitiveType::Decimal(*p, *s as i8)
                }
                // A length on a string type (varchar(10)) does not change the type.
                (PrimitiveType::String, [_]) => ty,
                _ => return Err(self.error("a valid type (decimal precision is 1 to 38, scale at most the precision)")),
            };
        }
        self.expect_sym(")")?;
        Ok(e.cast(ty))
    }

    fn call(&mut self, name: &str) -> DeltaResult<Expr> {
        let func = Function::from_name(name).ok_or_else(|| {
            self.pos -= 1;
            self.error("a known function (lower, upper, coalesce)")
        })?;
        self.expect_sym("(")?;
        let mut args = Vec::new();
        if !self.eat_sym(")") {
            args.push(self.expr()?);
            while self.eat_sym(",") {
                args.push(self.expr()?);
            }
            self.expect_sym(")")?;
        }
        Ok(Expr::call(func, args))
    }
}
