use std::process::ExitCode;

fn main() -> ExitCode {
    sparkup::main()
}
