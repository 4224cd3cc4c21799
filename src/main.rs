fn main() {
    let code = obsgate::run(
        std::env::args_os(),
        obsgate::Env::detect(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    std::process::exit(code);
}
