//! Command-line flags.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::checks::Severity;
use crate::report::Format;

#[derive(Debug, Parser)]
#[command(name = "obsgate", version, about = "Gate a CI pipeline on the health of its monitoring", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Discover and audit every supported file under the paths (default `.`)
    Check(CheckArgs),
    /// Apply the mechanical fixes of the findings (deprecated matchers, useless `continue`),
    /// editing only the bytes they change
    Fix(FixArgs),
    /// Write a commented .obsgate.yml from what the files show (thresholds, paging, probe targets)
    Init {
        /// Files or directories to read (default: .)
        paths: Vec<PathBuf>,
        /// Print the config instead of writing .obsgate.yml
        #[arg(long)]
        stdout: bool,
        /// Replace an existing .obsgate.yml
        #[arg(long)]
        force: bool,
    },
    /// List all checks
    Checks {
        /// text (one line per check) or json (id, severity, summary, docs url of every check)
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
    },
    /// Print the documentation of one check
    Explain {
        /// Check id, e.g. alerts/missing-runbook, or policy/<name> for a policy of .obsgate.yml
        id: String,
        /// Config file for `policy/<name>` (default: .obsgate.yml found upward from here)
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Boot the service (optional), wait until it is ready, verify /metrics and /health against
    /// the rule files, and measure it under a bounded load
    Probe(Box<ProbeArgs>),
    /// Serve probes of the targets in `.obsgate.yml` as metrics (`/probe?target=NAME`, like
    /// blackbox_exporter but only for configured targets), with its own `/metrics` and `/health`
    Exporter {
        /// Address to listen on
        #[arg(long, default_value = "127.0.0.1:9115")]
        listen: std::net::SocketAddr,
        /// Config with `probe.targets` (default: .obsgate.yml found upward from here)
        #[arg(long)]
        config: Option<PathBuf>,
        /// Rule files to judge each probe with (reloaded on every probe)
        #[arg(long, num_args = 1.., value_name = "PATHS")]
        rules: Vec<PathBuf>,
        /// Probes running at once; more get 503
        #[arg(long, default_value_t = 4)]
        max_concurrent: usize,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff), or write one page per subcommand into a directory
    Man {
        /// Write obsgate.1 and a page per subcommand (obsgate-check.1, obsgate-routes-test.1,
        /// ...) into DIR, created if missing
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
    /// List the metric inventory obsgate reads: metric definitions in application source,
    /// committed scrapes (`.prom`, probe records) and recording rules, with types, labels and
    /// buckets
    Inventory {
        /// Files or directories (default `.`)
        paths: Vec<PathBuf>,
        /// Config file (default: .obsgate.yml found upward from the first path): its
        /// `include`/`exclude`
        #[arg(long)]
        config: Option<PathBuf>,
        /// text (one line per metric) or json
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
    },
    /// Alertmanager routing simulation (like `amtool config routes`)
    Routes {
        #[command(subcommand)]
        command: RoutesCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum RoutesCommand {
    /// Print the receivers an alert with these labels reaches (amtool's output), or with --all
    /// where every alert of the rule files goes
    Test {
        /// Alertmanager config (a plain file or a Kubernetes Secret/ConfigMap holding one)
        #[arg(long)]
        config: PathBuf,
        /// Rule files or directories (for --all)
        #[arg(long, num_args = 1..)]
        rules: Vec<PathBuf>,
        /// prometheus-operator manifests merged into the config as the operator merges them:
        /// `AlertmanagerConfig` resources, and the `Alertmanager` resource that selects them
        /// (without one, every resource is merged)
        #[arg(long, num_args = 1.., value_name = "PATHS")]
        operator: Vec<PathBuf>,
        /// Expected receivers, comma-separated: exit 1 when they differ
        #[arg(long, value_name = "RECEIVERS")]
        verify_receivers: Option<String>,
        /// Also print the matching part of the routing tree
        #[arg(long)]
        tree: bool,
        /// Route every alert of the rule files
        #[arg(long)]
        all: bool,
        /// Run the routing tests of FILE (`tests: [{name, alert, receivers, group_by, firing,
        /// inhibited, at, muted}]`): exit 1 when one fails
        #[arg(long, value_name = "FILE")]
        tests: Option<PathBuf>,
        /// With --tests: list the routes and inhibit rules no test exercised
        #[arg(long)]
        coverage: bool,
        /// With --tests: exit 1 when fewer than PCT percent of the routes are exercised
        #[arg(long, value_name = "PCT")]
        fail_under: Option<f64>,
        /// With --tests: text or json
        #[arg(long, default_value = "text")]
        format: String,
        /// Labels of the alert: NAME=VALUE ...
        labels: Vec<String>,
    },
    /// What changes for every alert of the rule files between two versions of a config:
    /// receivers, grouping, timings, inhibition, muting (exit 1 when something changes)
    Diff {
        /// The old and the new config, or one config with --diff-base
        #[arg(long, num_args = 1..=2, required = true)]
        config: Vec<PathBuf>,
        /// Compare the config with its version at this git revision
        #[arg(long, value_name = "REV")]
        diff_base: Option<String>,
        /// Rule files or directories whose alerts are routed
        #[arg(long, num_args = 1..)]
        rules: Vec<PathBuf>,
        /// prometheus-operator manifests merged into both versions as the operator merges them:
        /// `AlertmanagerConfig` resources, and the `Alertmanager` resource that selects them
        #[arg(long, num_args = 1.., value_name = "PATHS")]
        operator: Vec<PathBuf>,
        /// text, json or markdown (for a merge request comment)
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// Print the routing tree
    Tree {
        #[arg(long)]
        config: PathBuf,
        /// text or mermaid
        #[arg(long, default_value = "text")]
        format: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct ProbeArgs {
    /// Base URL of a target, e.g. http://127.0.0.1:9090 (repeatable; default: `probe.targets`
    /// of .obsgate.yml)
    #[arg(long = "target", value_name = "URL")]
    pub targets: Vec<String>,
    /// Path of the metrics endpoint
    #[arg(long, default_value = "/metrics")]
    pub metrics_path: String,
    /// Path of the health endpoint
    #[arg(long, default_value = "/health")]
    pub health_path: String,
    /// Command that starts the service (run with `sh -c` in its own process group, always
    /// stopped at the end)
    #[arg(long, value_name = "CMD")]
    pub boot: Option<String>,
    /// How long to wait for the target to answer
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub ready_timeout: String,
    /// Rule files and other configs to verify against the targets (default: `.`)
    #[arg(long, num_args = 1.., value_name = "PATHS")]
    pub rules: Vec<PathBuf>,
    /// Load check: stop after this many requests
    #[arg(long)]
    pub requests: Option<u64>,
    /// Load check: stop after this long (e.g. 10s)
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,
    /// Load check: connections (one request in flight on each)
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Load check: the path requested (default: the health path)
    #[arg(long)]
    pub load_path: Option<String>,
    /// Write a probe record (results with the bodies read) to FILE; `obsgate check FILE` judges
    /// it again later (name it `*.probe.json`)
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    #[command(flatten)]
    pub check: CheckArgs,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Files or directories to audit
    pub paths: Vec<PathBuf>,
    /// Config file (default: .obsgate.yml found upward from the first path)
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Output format (default: text on a terminal, concise otherwise)
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Also write a report: FORMAT=PATH (repeatable)
    #[arg(long, value_name = "FORMAT=PATH")]
    pub output: Vec<String>,
    /// Exit 1 when a finding is at or above this severity
    #[arg(long, value_enum, default_value = "error")]
    pub fail_on: Severity,
    /// Colour in text output (honours NO_COLOR)
    #[arg(long, value_enum, default_value = "auto")]
    pub color: Color,
    /// Print only findings (no summary line)
    #[arg(long, short)]
    pub quiet: bool,
    /// Write the analysis artifacts (performance-analysis.json, alerting-strategy.json) to DIR
    #[arg(long, value_name = "DIR")]
    pub artifacts: Option<PathBuf>,
    /// Report (and fail on) only findings that are not in this baseline file
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Write the fingerprints of this run's findings to FILE (to accept them as a baseline)
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Also load DIR (repeatable): everything in it is checked with the PATHs, but only
    /// findings that concern the PATHs are reported (the pre-commit hook: `--load .` and the
    /// staged files)
    #[arg(long, value_name = "DIR")]
    pub load: Vec<PathBuf>,
    /// Report only findings that concern files changed since REV (git: the merge base of REV
    /// and HEAD, uncommitted and untracked files included, renames followed); everything is
    /// still loaded and checked
    #[arg(long, value_name = "REV")]
    pub diff_base: Option<String>,
    /// Follow runbook links (HEAD, then GET) and report those that do not answer 2xx; without
    /// it, checking makes no network request
    #[arg(long)]
    pub online: bool,
}

#[derive(Debug, clap::Args)]
pub struct FixArgs {
    /// Files or directories (default: .)
    pub paths: Vec<PathBuf>,
    /// Config file (default: .obsgate.yml found upward from the first path)
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Print the changes as a unified diff and write nothing (exit 1 when there are some)
    #[arg(long)]
    pub diff: bool,
    /// Also apply fixes whose result is not certain to mean the same
    #[arg(long = "unsafe")]
    pub unsafe_fixes: bool,
}
