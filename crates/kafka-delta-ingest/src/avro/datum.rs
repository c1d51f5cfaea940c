//! The Avro binary encoding of one datum, decoded into a JSON value.

use serde_json::{Map, Value};

use super::schema::{FixedLogical, IntLogical, LongLogical, Schema, Type};

impl Schema {
    /// The JSON value of `payload`, one datum of this schema with nothing after it.
    pub fn datum(&self, payload: &[u8]) -> Result<Value, String> {
        let mut input = payload;
        let value = self.value(self.root, &mut input)?;
        if !input.is_empty() {
            return Err(format!(
                "{} bytes left after the datum: not written with the schema given",
                input.len()
            ));
        }
        Ok(value)
    }

    /// Decode one value of type `t` from the front of `input`.
    pub(super) fn value(&self, t: usize, input: &mut &[u8]) -> Result<Value, String> {
        Ok(match &self.types[t] {
            Type::Null | Type::Pending => Value::Null,
            Type::Boolean => Value::Bool(take(input, 1)?[0] != 0),
            Type::Int(IntLogical::None) => Value::from(long(input)?),
            Type::Int(IntLogical::Date) => {
                let days = long(input)?;
                chrono::NaiveDate::from_ymd_opt(1970, 1, 1)
                    .and_then(|epoch| epoch.checked_add_signed(chrono::Duration::try_days(days)?))
                    .map(|d| Value::String(d.to_string()))
                    .ok_or_else(|| format!("date {days} is out of range"))?
            }
            Type::Long(unit) => {
                let n = long(input)?;
                Value::from(match unit {
                    LongLogical::None | LongLogical::Micros => n,
                    LongLogical::Millis => n.checked_mul(1000).ok_or("a timestamp out of range")?,
                    LongLogical::Nanos => n.div_euclid(1000),
                })
            }
            Type::Float => Value::from(f64::from(f32::from_le_bytes(array(input)?))),
            Type::Double => Value::from(f64::from_le_bytes(array(input)?)),
            Type::Bytes(decimal) => {
                let bytes = sized(input)?;
                match decimal {
                    Some(scale) => Value::String(decimal_text(bytes, *scale)?),
                    None => Value::String(hex(bytes)),
                }
            }
            Type::String => {
                let bytes = sized(input)?;
                Value::String(String::from_utf8(bytes.to_vec()).map_err(|_| "a string that is not UTF-8")?)
            }
            Type::Record(fields) => {
                let mut object = Map::with_capacity(fields.len());
                for (name, field) in fields {
                    object.insert(name.clone(), self.value(*field, input)?);
                }
                Value::Object(object)
            }
            Type::Enum(symbols) => {
                let index = long(input)?;
                let symbol = usize::try_from(index).ok().and_then(|i| symbols.get(i));
                Value::String(
                    symbol
                        .ok_or_else(|| format!("enum index {index} out of range"))?
                        .clone(),
                )
            }
            Type::Array(items) => {
                let mut values = Vec::new();
                blocks(input, |input| {
                    values.push(self.value(*items, input)?);
                    Ok(())
                })?;
                Value::Array(values)
            }
            Type::Map(values) => {
                let mut object = Map::new();
                blocks(input, |input| {
                    let key = String::from_utf8(sized(input)?.to_vec()).map_err(|_| "a map key that is not UTF-8")?;
                    object.insert(key, self.value(*values, input)?);
                    Ok(())
                })?;
                Value::Object(object)
            }
            Type::Union(branches) => {
                let index = long(input)?;
                let branch = usize::try_from(index).ok().and_then(|i| branches.get(i));
                self.value(
                    *branch.ok_or_else(|| format!("union branch {index} out of range"))?,
                    input,
                )?
            }
            Type::Fixed(size, logical) => {
                let bytes = take(input, *size)?;
                match logical {
                    FixedLogical::None => Value::String(hex(bytes)),
                    FixedLogical::Decimal(scale) => Value::String(decimal_text(bytes, *scale)?),
                    FixedLogical::Duration => {
                        let part = |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
                        if bytes.len() != 12 {
                            return Err("a duration that is not 12 bytes".into());
                        }
                        serde_json::json!({"months": part(0), "days": part(4), "millis": part(8)})
                    }
                }
            }
        })
    }
}

/// The next `n` bytes of `input`.
pub(super) fn take<'a>(input: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
    if input.len() < n {
        return Err("the data ends early".into());
    }
    let (head, rest) = input.split_at(n);
    *input = rest;
    Ok(head)
}

fn array<const N: usize>(input: &mut &[u8]) -> Result<[u8; N], String> {
    let mut out = [0; N];
    out.copy_from_slice(take(input, N)?);
    Ok(out)
}

/// An `int` or `long`: a zig-zag variable-length integer.
pub(super) fn long(input: &mut &[u8]) -> Result<i64, String> {
    let mut n: u64 = 0;
    for shift in (0..64).step_by(7) {
        let byte = take(input, 1)?[0];
        n |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok((n >> 1) as i64 ^ -((n & 1) as i64));
        }
    }
    Err("an integer longer than 10 bytes".into())
}

/// `bytes` or a `string`: a length, then that many bytes.
pub(super) fn sized<'a>(input: &mut &'a [u8]) -> Result<&'a [u8], String> {
    let len = long(input)?;
    take(
        input,
        usize::try_from(len).map_err(|_| format!("a negative length {len}"))?,
    )
}

/// The items of an array or map: blocks of a count (negative when followed by a byte size), until
/// a count of zero.
pub(super) fn blocks(input: &mut &[u8], mut item: impl FnMut(&mut &[u8]) -> Result<(), String>) -> Result<(), String> {
    loop {
        let mut count = long(input)?;
        if count == 0 {
            return Ok(());
        }
        if count < 0 {
            count = count.checked_neg().ok_or("a block count out of range")?;
            long(input)?;
        }
        for _ in 0..count {
            item(input)?;
        }
    }
}

/// Lowercase hex digits of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The exact decimal text of a big-endian two's-complement unscaled value with `scale` digits
/// after the point (at most 16 bytes: Delta decimals have at most 38 digits).
pub(super) fn decimal_text(be_bytes: &[u8], scale: usize) -> Result<String, String> {
    if be_bytes.len() > 16 {
        return Err(format!("a decimal of {} bytes, more than 38 digits", be_bytes.len()));
    }
    let negative = be_bytes.first().is_some_and(|b| b & 0x80 != 0);
    let mut buf = [if negative { 0xff } else { 0 }; 16];
    buf[16 - be_bytes.len()..].copy_from_slice(be_bytes);
    let unscaled = i128::from_be_bytes(buf);
    let digits = unscaled.unsigned_abs().to_string();
    let sign = if unscaled < 0 { "-" } else { "" };
    if scale == 0 {
        return Ok(format!("{sign}{digits}"));
    }
    let digits = format!("{digits:0>width$}", width = scale + 1);
    let (whole, fraction) = digits.split_at(digits.len() - scale);
    Ok(format!("{sign}{whole}.{fraction}"))
}
