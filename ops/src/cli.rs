//! The command line of `cafe-ops`: a verb, where it acts (`--local [READY_FILE]`, else the
//! deployed stack) and `--dry-run`, which every verb takes.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Where the local stack's emulator writes its ready file (local/stack.py).
pub const DEFAULT_READY_FILE: &str = ".local/emulator.json";

/// The café's operator verbs: look at the orders and notifications that were parked, and bring
/// them back once the cause is fixed.
///
/// Without --local they act on the deployed stack whose outputs `make <verb> DEPLOYED=1` puts in
/// the environment (ORDERS_QUEUE_URL, ORDERS_DLQ_URL, NOTIFIER_FAILURES_QUEUE_URL,
/// ORDER_NOTIFIER_FUNCTION, ORDER_WRITER_LOG_GROUP), with your AWS credentials.
#[derive(Debug, Parser)]
#[command(name = "cafe-ops", version)]
pub struct Cli {
    #[command(subcommand)]
    pub verb: Verb,

    /// Act on the local stack, whose emulator wrote READY_FILE [default: .local/emulator.json]
    #[arg(
        long,
        global = true,
        value_name = "READY_FILE",
        num_args = 0..=1,
        default_missing_value = DEFAULT_READY_FILE
    )]
    pub local: Option<PathBuf>,

    /// Show what the verb would do, and change nothing
    #[arg(long, global = true)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Verb {
    /// Move what orders-dlq holds back onto the orders queue, once the cause is fixed
    ///
    /// Each moved order is tried by the order writer again. With --dry-run: list the parked
    /// orders it would move (as dlq-peek shows them), and move nothing.
    RedriveOrders,
    /// Hand the records notifier-failures describes back to order-notifier, which notifies them
    ///
    /// With --dry-run: list the failure descriptions it would replay and the stream records each
    /// names; invoke nothing, delete nothing.
    ReplayNotifications,
    /// Count what orders-dlq and notifier-failures hold; fail while either holds a message
    ///
    /// `make destroy` runs it first. It only reads: --dry-run changes nothing either.
    Parked,
    /// List each order parked on orders-dlq without taking it: when it arrived, its customer,
    /// and why the order writer refused it
    ///
    /// The reason is the writer's last refusal logged for the message's id: the local stack's
    /// .local/logs/functions.log, or the deployed writer's CloudWatch Logs log group
    /// (ORDER_WRITER_LOG_GROUP; needs logs:FilterLogEvents). It only reads: --dry-run changes
    /// nothing either.
    DlqPeek,
    /// Remove one parked order from orders-dlq for good, after showing it as dlq-peek does
    ///
    /// Every other message received while looking for it is made visible again at once. With
    /// --dry-run: show it and leave it on the queue.
    DlqDelete {
        /// The parked message's id, as dlq-peek lists it
        id: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("cafe-ops").chain(args.iter().copied()))
    }

    #[test]
    fn the_makefile_s_local_flag_reads_the_default_ready_file_or_the_one_given() {
        let cli = parse(&["redrive-orders", "--local"]).unwrap();
        assert_eq!(cli.verb, Verb::RedriveOrders);
        assert_eq!(cli.local, Some(PathBuf::from(DEFAULT_READY_FILE)));
        assert!(!cli.dry_run);
        let cli = parse(&["parked", "--local", "/tmp/ready.json"]).unwrap();
        assert_eq!(cli.local, Some(PathBuf::from("/tmp/ready.json")));
        let cli = parse(&["replay-notifications"]).unwrap();
        assert_eq!(cli.local, None);
    }

    #[test]
    fn every_verb_takes_dry_run_before_or_after_the_other_flags() {
        for verb in [
            &["redrive-orders"][..],
            &["replay-notifications"],
            &["parked"],
            &["dlq-peek"],
            &["dlq-delete", "m-1"],
        ] {
            let mut args = verb.to_vec();
            args.extend(["--dry-run", "--local"]);
            let cli = parse(&args).unwrap();
            assert!(cli.dry_run, "{verb:?}");
            assert_eq!(cli.local, Some(PathBuf::from(DEFAULT_READY_FILE)));
            let mut args = verb.to_vec();
            args.extend(["--local", "--dry-run"]);
            assert!(parse(&args).unwrap().dry_run, "{verb:?}");
        }
    }

    #[test]
    fn dlq_delete_needs_the_message_id() {
        let cli = parse(&["dlq-delete", "6f1c-2d", "--local"]).unwrap();
        assert_eq!(
            cli.verb,
            Verb::DlqDelete {
                id: "6f1c-2d".into()
            }
        );
        let error = parse(&["dlq-delete", "--local"]).unwrap_err().to_string();
        assert!(error.contains("<ID>"), "{error}");
    }

    #[test]
    fn an_unknown_verb_or_flag_is_refused_with_usage() {
        let error = parse(&["redrive"]).unwrap_err().to_string();
        assert!(
            error.contains("unrecognized subcommand 'redrive'"),
            "{error}"
        );
        let error = parse(&["parked", "--deployed"]).unwrap_err().to_string();
        assert!(error.contains("--deployed"), "{error}");
        assert!(parse(&[]).is_err());
    }

    #[test]
    fn help_says_what_each_verb_does() {
        Cli::command().debug_assert();
        let help = Cli::command().render_long_help().to_string();
        for line in [
            "dlq-peek",
            "dlq-delete",
            "why the order writer refused it",
            "--dry-run",
        ] {
            assert!(help.contains(line), "{line:?} missing from:\n{help}");
        }
        let mut command = Cli::command();
        let delete = command
            .find_subcommand_mut("dlq-delete")
            .unwrap()
            .render_long_help()
            .to_string();
        assert!(
            delete.contains("With --dry-run: show it and leave it on the queue"),
            "{delete}"
        );
        assert!(delete.contains("--dry-run"), "{delete}");
    }
}
