//! Test "pods": Linux network namespaces with their own IPs, on a bridge that lives in a namespace
//! of its own. Nothing is attached to the root namespace, which holds a blackhole route for the
//! test subnet while the test runs, so no packet for a test address can leave the machine.
//! Everything is removed on drop, also when the test fails.

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub fn sh(args: &[&str]) {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub struct Network {
    prefix: String,
    /// `10.231.N.` — host addresses are this plus a last octet.
    net: String,
    bridge_ns: String,
    namespaces: Vec<String>,
    /// `/etc/hosts` lines every namespace gets (the test's stand-in for cluster DNS).
    pub hosts: Vec<(String, String)>,
    children: Vec<(String, Child)>,
}

impl Network {
    /// A network for one test; `slot` tells apart the tests of one process, whose ids are equal.
    pub fn new(tag: &str, slot: u32) -> Network {
        assert_eq!(
            euid(),
            0,
            "the end-to-end tests create network namespaces and need root"
        );
        let n = (std::process::id() % 100) * 2 + 20 + slot % 2;
        let prefix = format!("spk{tag}{n}");
        let net = format!("10.231.{n}.");
        let bridge_ns = format!("{prefix}-br");
        let network = Network {
            prefix,
            net,
            bridge_ns,
            namespaces: Vec::new(),
            hosts: Vec::new(),
            children: Vec::new(),
        };
        sh(&["ip", "route", "replace", "blackhole", &network.subnet()]);
        sh(&["ip", "netns", "add", &network.bridge_ns]);
        network.exec_ok(
            &network.bridge_ns,
            &["ip", "link", "add", "br0", "type", "bridge"],
        );
        network.exec_ok(&network.bridge_ns, &["ip", "link", "set", "br0", "up"]);
        network
    }

    pub fn subnet(&self) -> String {
        format!("{}0/24", self.net)
    }

    pub fn ip(&self, host: u8) -> String {
        format!("{}{host}", self.net)
    }

    fn exec_ok(&self, ns: &str, args: &[&str]) {
        let mut full = vec!["ip", "netns", "exec", ns];
        full.extend_from_slice(args);
        sh(&full);
    }

    fn ns_name(&self, name: &str) -> String {
        format!("{}-{name}", self.prefix)
    }

    /// Adds a host `name` at `.host` on the bridge; `/etc/hosts` inside it maps every name in
    /// `self.hosts` (add those first).
    pub fn add_host(&mut self, name: &str, host: u8) -> String {
        let ns = self.ns_name(name);
        let peer = format!("v{}{host}", &self.prefix[3..]);
        sh(&["ip", "netns", "add", &ns]);
        self.namespaces.push(ns.clone());
        sh(&[
            "ip",
            "link",
            "add",
            "eth0",
            "netns",
            &ns,
            "type",
            "veth",
            "peer",
            "name",
            &peer,
            "netns",
            &self.bridge_ns,
        ]);
        self.exec_ok(
            &self.bridge_ns,
            &["ip", "link", "set", &peer, "master", "br0", "up"],
        );
        let cidr = format!("{}/24", self.ip(host));
        self.exec_ok(&ns, &["ip", "addr", "add", &cidr, "dev", "eth0"]);
        self.exec_ok(&ns, &["ip", "link", "set", "eth0", "up"]);
        self.exec_ok(&ns, &["ip", "link", "set", "lo", "up"]);
        let etc = Path::new("/etc/netns").join(&ns);
        std::fs::create_dir_all(&etc).unwrap();
        let mut hosts = format!("127.0.0.1 localhost\n{} {name}\n", self.ip(host));
        for (ip, host_name) in &self.hosts {
            hosts.push_str(&format!("{ip} {host_name}\n"));
        }
        std::fs::write(etc.join("hosts"), hosts).unwrap();
        ns
    }

    /// Starts `argv` inside host `name` with exactly `env`, output to `log`, with its own host
    /// name (a UTS namespace) when given, as a pod or a container has.
    pub fn spawn_as(
        &mut self,
        name: &str,
        hostname: Option<&str>,
        env: &[(String, String)],
        argv: &[String],
        log: &Path,
    ) {
        let child = self.spawn_logged(name, hostname, env, argv, log);
        self.children.push((name.to_string(), child));
    }

    /// `argv` in host `name`, stdout and stderr to `log`.
    fn spawn_logged(
        &self,
        name: &str,
        hostname: Option<&str>,
        env: &[(String, String)],
        argv: &[String],
        log: &Path,
    ) -> Child {
        let file = File::create(log).unwrap();
        self.command(name, hostname, env, argv)
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap()
    }

    /// `argv` inside host `name` with exactly `env`, and its own host name if given (a UTS
    /// namespace, as a container has).
    fn command<S: AsRef<std::ffi::OsStr>>(
        &self,
        name: &str,
        hostname: Option<&str>,
        env: &[(String, String)],
        argv: &[S],
    ) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.ns_name(name)]);
        if let Some(hostname) = hostname {
            let set_hostname = "hostname \"$0\" && exec \"$@\"";
            command.args(["unshare", "--uts", "sh", "-c", set_hostname, hostname]);
        }
        command
            .args(["env", "-i"])
            .args(env.iter().map(|(k, v)| format!("{k}={v}")))
            .args(argv);
        command
    }

    /// Runs `argv` in host `name` to its end (at most `limit`, then it is killed), output to
    /// `log`; its exit code, as a kubelet reports a container's.
    pub fn run_to_end(
        &self,
        name: &str,
        hostname: Option<&str>,
        env: &[(String, String)],
        argv: &[String],
        log: &Path,
        limit: std::time::Duration,
    ) -> Option<i32> {
        let mut child = self.spawn_logged(name, hostname, env, argv, log);
        let start = std::time::Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status.code();
            }
            if start.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }

    /// Kills every process in host `name` (the daemon and anything it started) with SIGKILL.
    pub fn kill(&mut self, name: &str) {
        let ns = self.ns_name(name);
        kill_all_in(&ns);
        self.children.retain_mut(|(n, child)| {
            if n == name {
                let _ = child.wait();
                false
            } else {
                true
            }
        });
    }

    /// The processes that run in host `name`.
    pub fn pids(&self, name: &str) -> Vec<u32> {
        Command::new("ip")
            .args(["netns", "pids", &self.ns_name(name)])
            .output()
            .map(|out| {
                String::from_utf8_lossy(&out.stdout)
                    .split_whitespace()
                    .filter_map(|p| p.parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether any process runs in host `name`.
    pub fn running(&self, name: &str) -> bool {
        Command::new("ip")
            .args(["netns", "pids", &self.ns_name(name)])
            .output()
            .is_ok_and(|out| !String::from_utf8_lossy(&out.stdout).trim().is_empty())
    }

    /// Sends `signal` (`TERM`, …) to the process started in host `name`, as a kubelet stopping a
    /// pod signals the container's first process only.
    pub fn signal(&self, name: &str, signal: &str) {
        for (_, child) in self.children.iter().filter(|(n, _)| n == name) {
            let _ = Command::new("kill")
                .args([&format!("-{signal}"), &child.id().to_string()])
                .status();
        }
    }

    /// Routes connections from hosts `clients` to `service_ip` to `target_ip` instead, as
    /// kube-proxy does for a ClusterIP Service: the stand-in for a Service whose pod was replaced.
    pub fn route_service(&self, clients: &[&str], service_ip: &str, target_ip: &str) {
        for client in clients {
            let ns = self.ns_name(client);
            self.exec_ok(&ns, &["iptables", "-t", "nat", "-F", "OUTPUT"]);
            self.exec_ok(
                &ns,
                &[
                    "iptables",
                    "-t",
                    "nat",
                    "-A",
                    "OUTPUT",
                    "-d",
                    service_ip,
                    "-p",
                    "tcp",
                    "-j",
                    "DNAT",
                    "--to-destination",
                    target_ip,
                ],
            );
        }
    }

    /// Runs a client command inside host `name` and returns its stdout, or None on failure.
    pub fn run_in(&self, name: &str, args: &[&str]) -> Option<String> {
        let path = (
            "PATH".to_string(),
            std::env::var("PATH").unwrap_or_default(),
        );
        self.run_as(name, None, &[path], args)
    }

    /// Like `run_in`, with a host name and environment of its own.
    pub fn run_as(
        &self,
        name: &str,
        hostname: Option<&str>,
        env: &[(String, String)],
        args: &[&str],
    ) -> Option<String> {
        let out = self.command(name, hostname, env, args).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

fn kill_all_in(ns: &str) {
    signal_all_in(ns, "KILL");
}

fn signal_all_in(ns: &str, signal: &str) {
    if let Ok(out) = Command::new("ip").args(["netns", "pids", ns]).output() {
        for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            let _ = Command::new("kill")
                .args([&format!("-{signal}"), pid])
                .status();
        }
    }
}

impl Network {
    /// Every namespace the test made: the hosts and the bridge.
    fn all_namespaces(&self) -> impl Iterator<Item = &String> {
        self.namespaces
            .iter()
            .chain(std::iter::once(&self.bridge_ns))
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
        }
        for ns in self.all_namespaces() {
            kill_all_in(ns);
        }
        for (_, child) in &mut self.children {
            let _ = child.wait();
        }
        for ns in self.all_namespaces() {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
            let _ = std::fs::remove_dir_all(Path::new("/etc/netns").join(ns));
        }
        let _ = Command::new("ip")
            .args(["route", "del", "blackhole", &self.subnet()])
            .status();
    }
}

fn euid() -> u32 {
    // `id -u` keeps the tests free of unsafe code and of a libc dependency.
    let out = Command::new("id").arg("-u").output().expect("id");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(u32::MAX)
}
