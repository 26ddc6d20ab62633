//! The bench's options, from the command line.

use std::time::Duration;

use anyhow::{Context as _, bail};

/// What the generator's callers are served by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Path {
    /// The media node, its RTP on this `TELECONF_MEDIA_IO` (`io_uring`, `epoll`).
    Node(&'static str),
    /// The reference bridge ([`crate::reference`]): one socket for every caller.
    Reference,
    /// The same bridge with a socket per caller, as the node has: the cost of
    /// that structure alone, apart from the node's own work.
    ReferenceSockets,
}

impl Path {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Path::Node(io) => io,
            Path::Reference => "reference",
            Path::ReferenceSockets => "reference_sockets",
        }
    }

    fn parse(name: &str) -> anyhow::Result<Self> {
        match name.trim() {
            "io_uring" => Ok(Path::Node("io_uring")),
            "epoll" => Ok(Path::Node("epoll")),
            "reference" => Ok(Path::Reference),
            "reference_sockets" => Ok(Path::ReferenceSockets),
            other => {
                bail!("unknown path {other:?}: io_uring, epoll, reference or reference_sockets")
            }
        }
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// Participants per node core at each step.
    pub(crate) steps: Vec<usize>,
    /// What serves the callers, one after the other, each through every step.
    pub(crate) paths: Vec<Path>,
    /// Callers per conference.
    pub(crate) size: usize,
    /// Callers of a conference who send a tone (the others send silence).
    pub(crate) talkers: usize,
    /// The measured window of a step.
    pub(crate) measure: Duration,
    /// Wait between the last admission and the window.
    pub(crate) settle: Duration,
    /// New calls per second.
    pub(crate) join_rate: f64,
    /// The node's CPUs: its runtime gets one worker per CPU.
    pub(crate) node_cpus: Vec<usize>,
    /// The generator's CPUs.
    pub(crate) gen_cpus: Vec<usize>,
    /// Pin the node and the generator to their CPUs.
    pub(crate) pin: bool,
    /// Go on after a step that lost frames.
    pub(crate) keep_going: bool,
    /// Times a disturbed window is measured again.
    pub(crate) retries: usize,
    /// The cascade's cost instead of the steps ([`crate::cascade`]).
    pub(crate) cascade: bool,
    /// Print the usage.
    pub(crate) help: bool,
}

impl Options {
    pub(crate) const USAGE: &'static str = "\
usage: bench_media [--steps 500,1000,1500,2000,2500,3000,3500,4000] [--measure-secs 10]
                   [--settle-secs 35] [--join-rate 50] [--size 25] [--talkers 3]
                   [--node-cpus 0] [--gen-cpus 1] [--no-pin] [--keep-going] [--retries 3]
                   [--paths io_uring,epoll,reference] [--cascade]
  --steps       participants per node core at each step (rounded up to whole conferences)
  --join-rate   new calls per second (INVITEs from the one trunk)
  --paths       what serves the callers, in turn: the node with its RTP on io_uring, the node
                on its epoll fallback, the one-socket reference bridge; reference_sockets (not
                in the default) is that bridge with a socket per caller, as the node has
  --node-cpus   CPUs of the node (one tokio worker each); --gen-cpus those of the generator
  --keep-going  go on after a step that lost frames (default: stop there)
  --retries     times a window disturbed by other processes is measured again
  --cascade     two nodes on the node CPUs: the first step's participants all on one node, then
                as many with half of each conference on a second node that cascades to the
                first (default step 500), their RTP on the first node path of --paths: CPU per
                participant on each node, mouth-to-ear delay";

    pub(crate) fn parse() -> anyhow::Result<Self> {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let mut options = Self {
            steps: vec![500, 1000, 1500, 2000, 2500, 3000, 3500, 4000],
            paths: vec![Path::Node("io_uring"), Path::Node("epoll"), Path::Reference],
            size: 25,
            talkers: 3,
            measure: Duration::from_secs(10),
            // Steady state: each keyed digit's INFO leaves a server transaction
            // for Timer J (64·T1 = 32 s, RFC 3261 §17.2.2), which the node walks for
            // its deadlines; and the entry tone (250 ms) plays to each caller for
            // everyone who joins after them (6 s for the first of 25).
            settle: Duration::from_secs(35),
            // A node's share of a top-of-the-hour rush, as a trunk delivers it:
            // 4,000 callers in 80 s. Faster is a storm no trunk sends one node;
            // a node past its core sheds it with 503 (`--join-rate 150` shows it).
            join_rate: 50.0,
            node_cpus: vec![0],
            gen_cpus: vec![if cores > 1 { 1 } else { 0 }],
            pin: cores > 1,
            keep_going: false,
            retries: 3,
            cascade: false,
            help: false,
        };
        let mut steps_given = false;
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = || {
                args.next()
                    .with_context(|| format!("{arg} needs a value\n{}", Self::USAGE))
            };
            match arg.as_str() {
                "--steps" => {
                    options.steps = list(&value()?)?;
                    steps_given = true;
                }
                "--paths" => {
                    options.paths = value()?
                        .split(',')
                        .map(Path::parse)
                        .collect::<anyhow::Result<_>>()?;
                }
                "--size" => options.size = value()?.parse()?,
                "--talkers" => options.talkers = value()?.parse()?,
                "--measure-secs" => options.measure = Duration::from_secs_f64(value()?.parse()?),
                "--settle-secs" => options.settle = Duration::from_secs_f64(value()?.parse()?),
                "--join-rate" => options.join_rate = value()?.parse()?,
                "--node-cpus" => options.node_cpus = list(&value()?)?,
                "--gen-cpus" => options.gen_cpus = list(&value()?)?,
                "--no-pin" => options.pin = false,
                "--keep-going" => options.keep_going = true,
                "--retries" => options.retries = value()?.parse()?,
                "--cascade" => options.cascade = true,
                "--help" | "-h" => options.help = true,
                other => bail!("unknown argument {other}\n{}", Self::USAGE),
            }
        }
        if options.cascade && !steps_given {
            options.steps = vec![500];
        }
        if options.size < 2 && options.cascade {
            bail!("a cascaded conference needs a caller on each node");
        }
        if options.paths.is_empty() {
            bail!("at least one path to measure");
        }
        if options.cascade && options.node_io().is_none() {
            bail!("--cascade runs nodes: --paths needs io_uring or epoll");
        }
        if options.size == 0 || options.talkers > options.size || options.node_cpus.is_empty() {
            bail!("a conference needs callers, at most as many talkers, and the node a CPU");
        }
        if options.measure < Duration::from_secs(1) || options.join_rate <= 0.0 {
            bail!("the window must last at least 1 s and calls must join");
        }
        Ok(options)
    }

    /// The first node path's `TELECONF_MEDIA_IO`: the cascade's nodes run on it.
    pub(crate) fn node_io(&self) -> Option<&'static str> {
        self.paths.iter().find_map(|path| match path {
            Path::Node(io) => Some(*io),
            Path::Reference | Path::ReferenceSockets => None,
        })
    }
}

fn list(value: &str) -> anyhow::Result<Vec<usize>> {
    value
        .split(',')
        .map(|item| item.trim().parse().with_context(|| format!("{item:?}")))
        .collect()
}
