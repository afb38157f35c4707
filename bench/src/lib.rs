//! Benchmarks of keygate's pure hot path; see `benches/hot_path.rs`. This
//! crate is separate so that `make test` never compiles criterion.
