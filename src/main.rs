use std::process::ExitCode;

/// A render is thousands of small allocations freed soon after; mimalloc serves them with a
/// fraction of the instructions glibc's malloc spends.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    sparkup::main()
}
