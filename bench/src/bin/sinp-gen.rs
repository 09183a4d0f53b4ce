//! sinp-gen: writes SINP format-1.0 test archives and prints a one-line JSON manifest.
//!
//! ```text
//! sinp-gen synthetic --rows N --out PATH.zip [--datasets D] [--users U] [--organisms O]
//!                    [--afs A] [--seed S] [--areas COM.05061,DEP.05] [--export-date 'YYYY-MM-DD HH:MM']
//! sinp-gen real --fixture-dir DIR --out PATH.zip
//! ```

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use sinp_bench::{write_real_fixture_archive, write_synthetic_archive, SynthOptions};

const USAGE: &str = "usage:
  sinp-gen synthetic --rows N --out PATH.zip [--datasets D] [--users U] [--organisms O]
                     [--afs A] [--seed S] [--areas COM.05061,DEP.05] [--export-date 'YYYY-MM-DD HH:MM']
  sinp-gen real --fixture-dir DIR --out PATH.zip

Prints a one-line JSON manifest (rows per entity, area-only rows, geometry spellings,
observer links) on stdout; the elapsed time on stderr.";

fn parse_num<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, String> {
    v.replace('_', "")
        .parse()
        .map_err(|_| format!("{flag}: not a number: {v}"))
}

fn run(args: &[String]) -> Result<String, String> {
    let (cmd, rest) = args.split_first().ok_or_else(|| USAGE.to_string())?;
    if rest.len() % 2 != 0 {
        return Err(format!("every option takes a value\n{USAGE}"));
    }
    let pairs: Vec<(&str, &str)> = rest
        .chunks(2)
        .map(|p| (p[0].as_str(), p[1].as_str()))
        .collect();
    let mut out: Option<PathBuf> = None;
    let start = Instant::now();
    let manifest = match cmd.as_str() {
        "synthetic" => {
            let mut o = SynthOptions::default();
            let mut rows_given = false;
            for (k, v) in pairs {
                match k {
                    "--rows" => {
                        o.rows = parse_num(k, v)?;
                        rows_given = true;
                    }
                    "--out" => out = Some(PathBuf::from(v)),
                    "--datasets" => o.datasets = parse_num(k, v)?,
                    "--users" => o.users = parse_num(k, v)?,
                    "--organisms" => o.organisms = parse_num(k, v)?,
                    "--afs" => o.afs = parse_num(k, v)?,
                    "--seed" => o.seed = parse_num(k, v)?,
                    "--areas" => {
                        o.area_codes = v
                            .split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                            .collect()
                    }
                    "--export-date" => o.export_date = v.to_string(),
                    _ => return Err(format!("unknown option {k}\n{USAGE}")),
                }
            }
            if !rows_given {
                return Err(format!("--rows is required\n{USAGE}"));
            }
            let path = out
                .clone()
                .ok_or_else(|| format!("--out is required\n{USAGE}"))?;
            let f = File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            write_synthetic_archive(&o, BufWriter::with_capacity(1 << 20, f))
                .map_err(|e| format!("{}: {e}", path.display()))?
        }
        "real" => {
            let mut dir: Option<PathBuf> = None;
            for (k, v) in pairs {
                match k {
                    "--fixture-dir" => dir = Some(PathBuf::from(v)),
                    "--out" => out = Some(PathBuf::from(v)),
                    _ => return Err(format!("unknown option {k}\n{USAGE}")),
                }
            }
            let dir = dir.ok_or_else(|| format!("--fixture-dir is required\n{USAGE}"))?;
            let path = out
                .clone()
                .ok_or_else(|| format!("--out is required\n{USAGE}"))?;
            let f = File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            write_real_fixture_archive(&dir, BufWriter::with_capacity(1 << 20, f))
                .map_err(|e| format!("{}: {e}", path.display()))?
        }
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            return Ok(String::new());
        }
        _ => return Err(format!("unknown command {cmd}\n{USAGE}")),
    };
    eprintln!(
        "sinp-gen: wrote {} in {:.2} s",
        out.unwrap_or_default().display(),
        start.elapsed().as_secs_f64()
    );
    Ok(manifest.to_json())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(json) => {
            if !json.is_empty() {
                println!("{json}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sinp-gen: {e}");
            ExitCode::from(2)
        }
    }
}
