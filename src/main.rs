// mimalloc instead of glibc's malloc: a run allocates and frees millions of small nodes (YAML,
// PromQL and template trees, findings) on several threads; measured on the 40,000-rule set
// (benches/compare.sh), it took a third of the CPU time off.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
