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
    /// List all checks
    Checks,
    /// Print the documentation of one check
    Explain {
        /// Check id, e.g. alerts/missing-runbook
        id: String,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff)
    Man,
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
        /// Expected receivers, comma-separated: exit 1 when they differ
        #[arg(long, value_name = "RECEIVERS")]
        verify_receivers: Option<String>,
        /// Also print the matching part of the routing tree
        #[arg(long)]
        tree: bool,
        /// Route every alert of the rule files
        #[arg(long)]
        all: bool,
        /// Labels of the alert: NAME=VALUE ...
        labels: Vec<String>,
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
}
