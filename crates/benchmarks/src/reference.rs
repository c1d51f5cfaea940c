//! The Python sides: the scripts of `python/`, run in the reference virtual environment (the
//! `deltalake` 1.6.6 PyPI package and pyarrow) or in one with our Python package.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::BenchResult;
use crate::child::parse_output;
use crate::measure::Measurement;

/// The scripts' directory.
const SCRIPTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python");

/// Which `deltalake` package an interpreter imports, and the script that makes its environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Package {
    /// `deltalake` 1.6.6 from PyPI, with pyarrow.
    Reference,
    /// This workspace's `python/`, built in release mode, with pyarrow.
    Ours,
}

impl Package {
    /// The script that creates the virtual environment and prints its interpreter.
    fn setup_script(self) -> &'static str {
        match self {
            Package::Reference => concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/setup-python.sh"),
            Package::Ours => concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/setup-bench-python.sh"),
        }
    }
}

/// A Python interpreter with a `deltalake` package and pyarrow.
#[derive(Debug, Clone)]
pub struct Python {
    interpreter: PathBuf,
}

impl Python {
    /// `explicit` if given, else the interpreter that the setup script of `package` prints
    /// (creating or updating its environment).
    pub fn locate(package: Package, explicit: Option<PathBuf>) -> BenchResult<Self> {
        let interpreter = match explicit {
            Some(path) => path,
            None => {
                let setup = package.setup_script();
                let output = Command::new("bash").arg(setup).output()?;
                if !output.status.success() {
                    return Err(format!("{setup} failed: {}", String::from_utf8_lossy(&output.stderr).trim()).into());
                }
                PathBuf::from(String::from_utf8(output.stdout)?.trim())
            }
        };
        let check = Command::new(&interpreter)
            .args([
                "-c",
                "import deltalake, pyarrow; print(deltalake.__version__, deltalake.__file__)",
            ])
            .output()?;
        if !check.status.success() {
            return Err(format!("{} cannot import deltalake and pyarrow", interpreter.display()).into());
        }
        eprintln!(
            "{package:?} package: deltalake {} ({})",
            String::from_utf8_lossy(&check.stdout).trim(),
            interpreter.display()
        );
        Ok(Self { interpreter })
    }

    /// Run `script` of `python/` with `args`; it prints a [`Measurement`] as its last line.
    pub fn run(&self, script: &str, args: &[String]) -> BenchResult<Measurement> {
        let output = Command::new(&self.interpreter)
            .arg(Path::new(SCRIPTS).join(script))
            .args(args)
            .output()?;
        parse_output(&format!("python {script}"), &output)
    }
}
