fn main() {
    // Streams are not locked for the whole run: a worker thread that writes to stderr (a panic
    // message, a debug print) must never wait for a lock the main thread holds.
    let code = obsgate::run(
        std::env::args_os(),
        obsgate::Env::detect(),
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    );
    std::process::exit(code);
}
