//! sinp-gen: writes SINP format-1.0 test archives and prints a one-line JSON manifest.
//!
//! ```text
//! sinp-gen synthetic --rows N --out PATH.zip [--datasets D] [--users U] [--organisms O]
//!                    [--afs A] [--seed S] [--areas COM.05061,DEP.05] [--export-date 'YYYY-MM-DD HH:MM']
//! sinp-gen real --fixture-dir DIR --out PATH.zip
//! sinp-gen diff --base-rows N --out PATH.zip [--initial yes] [--updates 10000] [--deletes 1000]
//!               [--inserts 1000] [--diff-export-date 'YYYY-MM-DD HH:MM'] [the base's options]
//! ```

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use sinp_bench::{
    write_diff_archive, write_diff_initial_archive, write_real_fixture_archive,
    write_synthetic_archive, DiffOptions, SynthOptions,
};

const USAGE: &str = "usage:
  sinp-gen synthetic --rows N --out PATH.zip [--datasets D] [--users U] [--organisms O]
                     [--afs A] [--seed S] [--areas COM.05061,DEP.05] [--export-date 'YYYY-MM-DD HH:MM']
  sinp-gen real --fixture-dir DIR --out PATH.zip
  sinp-gen diff --base-rows N --out PATH.zip [--initial yes] [--updates 10000] [--deletes 1000]
                [--inserts 1000] [--diff-export-date 'YYYY-MM-DD HH:MM']
                [--datasets D] [--users U] [--organisms O] [--afs A] [--seed S] [--areas ...]

diff: the differential archive (U, D and I rows) of the synthetic archive that `synthetic` writes
with --rows N and the same options; with --initial yes, the same rows as an initial archive
(every metadata file, every row an I).

Prints a one-line JSON manifest (rows per entity, area-only rows, geometry spellings,
observer links; for diff: U/D/I rows, moved geometries...) on stdout; the elapsed time on stderr.";

/// An option of the synthetic archive (`synthetic`, and the base of `diff`); false if `k` is not one.
fn synth_option(o: &mut SynthOptions, k: &str, v: &str) -> Result<bool, String> {
    match k {
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
        _ => return Ok(false),
    }
    Ok(true)
}

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
                    _ if synth_option(&mut o, k, v)? => {}
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
        "diff" => {
            let mut base = SynthOptions::default();
            let mut diff = DiffOptions::default();
            let mut rows_given = false;
            let mut initial = false;
            for (k, v) in pairs {
                match k {
                    "--base-rows" => {
                        base.rows = parse_num(k, v)?;
                        rows_given = true;
                    }
                    "--out" => out = Some(PathBuf::from(v)),
                    "--updates" => diff.updates = parse_num(k, v)?,
                    "--deletes" => diff.deletes = parse_num(k, v)?,
                    "--inserts" => diff.inserts = parse_num(k, v)?,
                    "--diff-export-date" => diff.export_date = v.to_string(),
                    "--initial" => {
                        initial = match v {
                            "yes" | "true" => true,
                            "no" | "false" => false,
                            _ => return Err(format!("--initial: yes or no, not {v}")),
                        }
                    }
                    _ if synth_option(&mut base, k, v)? => {}
                    _ => return Err(format!("unknown option {k}\n{USAGE}")),
                }
            }
            if !rows_given {
                return Err(format!("--base-rows is required\n{USAGE}"));
            }
            if base.rows < diff.updates + diff.deletes {
                return Err(format!(
                    "--base-rows {}: the U and D rows are distinct base rows, at least {} are needed",
                    base.rows,
                    diff.updates + diff.deletes
                ));
            }
            let path = out
                .clone()
                .ok_or_else(|| format!("--out is required\n{USAGE}"))?;
            let f = File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let w = BufWriter::with_capacity(1 << 20, f);
            let written = if initial {
                write_diff_initial_archive(&base, &diff, w)
            } else {
                write_diff_archive(&base, &diff, w)
            };
            let manifest = written.map_err(|e| format!("{}: {e}", path.display()))?;
            eprintln!(
                "sinp-gen: wrote {} in {:.2} s",
                path.display(),
                start.elapsed().as_secs_f64()
            );
            return Ok(manifest.to_json());
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
