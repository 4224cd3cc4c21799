//! End-to-end CLI cases: `tests/cmd/*.trycmd` (args, exit code, exact stdout/stderr).

#[test]
fn cli() {
    trycmd::TestCases::new().case("tests/cmd/*.trycmd");
}
