//! Compiles the inotify(7) man page's C loop (`c/strlen.c`) with `gcc -O2`
//! into a static library linked into the harness, so the C loop is counted
//! by the same run as the Rust readers.
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let obj = out.join("strlen.o");
    let run = |cmd: &mut Command| assert!(cmd.status().expect("run gcc/ar").success());
    run(Command::new("gcc")
        .args(["-O2", "-g", "-Wall", "-c", "c/strlen.c", "-o"])
        .arg(&obj));
    run(Command::new("ar")
        .arg("crs")
        .arg(out.join("libpeers_c.a"))
        .arg(&obj));
    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rustc-link-lib=static=peers_c");
    println!("cargo:rerun-if-changed=c/strlen.c");
}
