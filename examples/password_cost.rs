//! What hashing every initial password eagerly would cost: the figure
//! behind hashing argon2id lazily (docs/benchmarks/accounts.md).
//!
//! `cargo run --release --example password_cost`

fn main() {
    let n = 20;
    let t = std::time::Instant::now();
    for i in 0..n {
        preau::auth::hash_password(&format!("tavopiru{i:02}")).expect("hashing works");
    }
    let argon = t.elapsed().as_secs_f64() / n as f64;
    let t = std::time::Instant::now();
    for i in 0..10_000 {
        preau::directory::password::nt_hash(&format!("tavopiru{i:02}"));
    }
    let nt = t.elapsed().as_secs_f64() / 10_000.0;
    println!(
        "argon2id (default cost): {:.1} ms per hash, {:.0} s for 2,600 accounts; NT hash: {:.2} µs",
        argon * 1e3,
        argon * 2600.0,
        nt * 1e6
    );
}
