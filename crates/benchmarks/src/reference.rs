//! The reference side: the `deltalake` 1.6.6 PyPI package, driven by the scripts of `python/`
//! in the reference virtual environment.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::BenchResult;
use crate::child::parse_output;
use crate::measure::Measurement;

/// The scripts' directory.
const SCRIPTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python");

/// The script that creates the reference venv and prints its interpreter.
const SETUP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/setup-python.sh");

/// A Python interpreter with `deltalake` 1.6.6 and pyarrow.
#[derive(Debug, Clone)]
pub struct Python {
    interpreter: PathBuf,
}

impl Python {
    /// `explicit` if given, else the interpreter `scripts/setup-python.sh` prints (creating the venv
    /// on first use).
    pub fn locate(explicit: Option<PathBuf>) -> BenchResult<Self> {
        let interpreter = match explicit {
            Some(path) => path,
            None => {
                let output = Command::new("bash").arg(SETUP).output()?;
                if !output.status.success() {
                    return Err(format!("{SETUP} failed: {}", String::from_utf8_lossy(&output.stderr).trim()).into());
                }
                PathBuf::from(String::from_utf8(output.stdout)?.trim())
            }
        };
        let check = Command::new(&interpreter)
            .args(["-c", "import deltalake, pyarrow; print(deltalake.__version__)"])
            .output()?;
        if !check.status.success() {
            return Err(format!("{} cannot import deltalake and pyarrow", interpreter.display()).into());
        }
        eprintln!(
            "reference: deltalake {} ({})",
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
