//! The macro's own work on a folder, in process: what `embed_migrations!`
//! did before (main's scan) against the branch's scan, and its scan plus the
//! lint. Median of 21 runs each, interleaved.
use std::path::Path;
use std::time::Instant;

fn main() {
    let dir = std::env::args().nth(1).expect("folder");
    let dialect = match std::env::args().nth(2).as_deref() {
        Some("postgres") => core_branch::lint::Dialect::Postgres,
        Some("mysql") => core_branch::lint::Dialect::MySql,
        _ => core_branch::lint::Dialect::Sqlite,
    };
    let dir = Path::new(&dir);
    let (mut a, mut b, mut c) = (vec![], vec![], vec![]);
    let mut findings = 0;
    for _ in 0..21 {
        let t = Instant::now();
        let f = core_main::scan(dir).map_err(|p| p.len()).unwrap();
        a.push(t.elapsed().as_secs_f64() * 1e3);
        assert!(!f.migrations.is_empty());
        let t = Instant::now();
        let f = core_branch::scan(dir).map_err(|p| p.len()).unwrap();
        b.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let f2 = core_branch::scan(dir).map_err(|p| p.len()).unwrap();
        findings = core_branch::lint::lint(&f2, dialect).len();
        c.push(t.elapsed().as_secs_f64() * 1e3);
        drop(f);
    }
    for v in [&mut a, &mut b, &mut c] {
        v.sort_by(|x, y| x.partial_cmp(y).unwrap());
    }
    println!("main scan {:.2} ms | branch scan {:.2} ms | branch scan + lint {:.2} ms ({findings} findings)", a[10], b[10], c[10]);
}
