//! The reliability campaign (`npe campaign`): many small GEMMs on the Verilated accelerator
//! under random bus timing, bus faults and soft resets, each checked bit for bit against the
//! golden model and by the AXI protocol checkers, with a markdown report.
//!
//! Three kinds of case, each a function of the preset and one 64-bit seed (so any case is
//! replayed alone with `npe campaign --replay KIND:SEED`):
//!
//! - **random**: a job of random shape (1, primes, anything up to the bounds), formats, scales,
//!   and memory timing (latency, a withholding probability per AXI channel, seed) on a fresh
//!   device; C must equal the golden model's, the bus must be idle and clean afterwards.
//! - **fault**: a job whose memory answers SLVERR or DECERR on one random beat of A, W, the
//!   column scales or C. The job must end with the matching error code, the runtime's error must
//!   name the failing burst's address and buffer, nothing may be left in flight on the bus, and
//!   the next job on the same device (new operands, same buffers) must be correct.
//! - **reset**: CTRL.SOFT_RESET written at a chosen point of a job, aimed at one of the job
//!   plan's states (Idle before START, Check, Vet, Derive, Plan, Run, Drain after a bus fault,
//!   Finish, Idle after the job). The state hit is measured, not assumed: the BUSY counter
//!   (which SOFT_RESET does not clear) says after how many busy cycles the reset landed, and a
//!   reference run of the same job on an identical device gives the job's own timeline. After
//!   the reset, STATUS.BUSY must clear within [`RESET_DRAIN_CYCLES`] (it stays set while the
//!   DMA engines close the bursts in flight), the bus must then be idle (every burst closed),
//!   and the next job in the same buffers must be correct.
//!
//! A hang is a job that does not end within a cycle bound ([`CampaignOptions::max_cycles`]);
//! it is counted and reported, never waited out.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use npe_hdl::spec::regs::{self, ErrorCode};
use npe_hdl::spec::{AxiResp, Format, NpeConfig, OutputFormat};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::demo::random_job;
use crate::device::sim::{SimBackend, SimOptions};
use crate::device::{dma_write, Backend, Device, DeviceBuffer, DeviceError, FaultSite, GemmBuffers, GemmJob, Layout};

/// What a campaign runs.
#[derive(Clone, Debug)]
pub struct CampaignOptions {
    /// Hardware preset.
    pub preset: NpeConfig,
    /// Campaign seed: case `i` of kind `k` runs with [`case_seed`]`(seed, k, i)`.
    pub seed: u64,
    /// Random-timing jobs (item 6).
    pub random: usize,
    /// Bus-fault cases (item 7).
    pub faults: usize,
    /// Soft-reset cases (item 8).
    pub resets: usize,
    /// A job not done after this many cycles is a hang.
    pub max_cycles: u64,
    /// The [`STATES`] (indices) the reset cases aim at, each as likely.
    pub reset_aims: Vec<usize>,
}

/// Every state of [`STATES`], to aim resets at (derived from its length: a state added to the
/// job plan is aimed at without another edit).
pub const ALL_STATES: [usize; STATES.len()] = {
    let mut all = [0; STATES.len()];
    let mut i = 0;
    while i < all.len() {
        all[i] = i;
        i += 1;
    }
    all
};

impl CampaignOptions {
    /// The CI-sized campaign on `preset`.
    pub fn short(preset: NpeConfig) -> CampaignOptions {
        CampaignOptions {
            preset,
            seed: 1,
            random: 200,
            faults: 60,
            resets: 60,
            max_cycles: 2_000_000,
            reset_aims: ALL_STATES.to_vec(),
        }
    }
}

/// The kinds of case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// Random shapes, formats and bus timing (item 6).
    Random,
    /// A bus fault on one beat (item 7).
    Fault,
    /// A soft reset mid-job (item 8).
    Reset,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 3] = [Kind::Random, Kind::Fault, Kind::Reset];

    /// Its name on the command line and in the report.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Random => "random",
            Kind::Fault => "fault",
            Kind::Reset => "reset",
        }
    }

    /// The kind named `s`.
    pub fn from_name(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// The seed of case `index` of `kind` in a campaign with seed `seed` (splitmix64 of the three).
pub fn case_seed(seed: u64, kind: Kind, index: u64) -> u64 {
    let mut z =
        seed ^ (kind as u64 + 1).wrapping_mul(0xa076_1d64_78bd_642f) ^ index.wrapping_mul(0xe703_7ed1_a0b4_28db);
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// How a case went wrong (a case that went right has none).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Failure {
    /// C differs from the golden model.
    Mismatch(String),
    /// A job did not end within the cycle bound.
    Hang(String),
    /// An AXI protocol checker flagged the hardware.
    Protocol(String),
    /// A burst was still open on the bus after the job or the reset.
    Dangling(String),
    /// The device ended a faulted job with the wrong code, or the runtime's error did not name
    /// the failing burst.
    WrongError(String),
    /// The device did not return to idle after SOFT_RESET.
    NotIdle(String),
    /// The injected fault was never reached (the campaign aimed at a beat no burst reads).
    FaultMissed(String),
    /// Any other error from the runtime.
    Other(String),
}

impl Failure {
    /// Short name of the failure class.
    pub fn class(&self) -> &'static str {
        match self {
            Failure::Mismatch(_) => "mismatch",
            Failure::Hang(_) => "hang",
            Failure::Protocol(_) => "protocol violation",
            Failure::Dangling(_) => "dangling burst",
            Failure::WrongError(_) => "wrong error",
            Failure::NotIdle(_) => "not idle after reset",
            Failure::FaultMissed(_) => "fault not reached",
            Failure::Other(_) => "other error",
        }
    }

    fn text(&self) -> &str {
        match self {
            Failure::Mismatch(s)
            | Failure::Hang(s)
            | Failure::Protocol(s)
            | Failure::Dangling(s)
            | Failure::WrongError(s)
            | Failure::NotIdle(s)
            | Failure::FaultMissed(s)
            | Failure::Other(s) => s,
        }
    }
}

/// The outcome of one case.
#[derive(Clone, Debug)]
pub struct CaseResult {
    /// Its kind.
    pub kind: Kind,
    /// Its seed.
    pub seed: u64,
    /// One line on what it ran.
    pub what: String,
    /// For a fault case: the fault (e.g. "read SLVERR in W"); for a reset case: the controller
    /// state the reset landed in.
    pub label: String,
    /// Jobs compared with the golden model (a case may run several).
    pub jobs_checked: u64,
    /// Output values compared.
    pub values: u64,
    /// Cycles simulated.
    pub cycles: u64,
    /// What went wrong; empty when the case passed.
    pub failures: Vec<Failure>,
}

/// Simulated time of `cycles` clock cycles at the back end's nominal clock.
fn cycles_time(cycles: u64) -> Duration {
    Duration::from_nanos(cycles.saturating_mul(1_000_000_000 / SimOptions::default().clock_hz))
}

/// A device on the simulator with `opts`, its job timeout at `max_cycles`.
fn device(cfg: &NpeConfig, opts: &SimOptions, max_cycles: u64) -> Result<Device<SimBackend>, DeviceError> {
    let mut dev = Device::connect(SimBackend::new(cfg, opts)?, *cfg)?;
    dev.timeout = cycles_time(max_cycles);
    dev.wall_timeout = Duration::from_secs(300);
    Ok(dev)
}

/// Buffers for `job` (and jobs of its shape and formats).
struct Bufs {
    a: DeviceBuffer,
    w: DeviceBuffer,
    c: DeviceBuffer,
    s: Option<DeviceBuffer>,
}

impl Bufs {
    fn new(dev: &mut Device<SimBackend>, job: &GemmJob) -> Result<Bufs, DeviceError> {
        let sizes = job.buffer_sizes(dev.config())?;
        Ok(Bufs {
            a: dev.alloc(sizes.a)?,
            w: dev.alloc(sizes.w)?,
            c: dev.alloc(sizes.c)?,
            s: if sizes.scales > 0 {
                Some(dev.alloc(sizes.scales)?)
            } else {
                None
            },
        })
    }

    fn gemm(&self) -> GemmBuffers<'_> {
        GemmBuffers {
            a: &self.a,
            w: &self.w,
            c: &self.c,
            scales: self.s.as_ref(),
        }
    }
}

/// Sorts a runtime error into a failure.
fn classify(e: DeviceError, what: &str) -> Failure {
    match e {
        DeviceError::Timeout { .. } | DeviceError::WallTimeout { .. } => Failure::Hang(format!("{what}: {e}")),
        DeviceError::Protocol(v) => Failure::Protocol(format!("{what}: {}", v.join("; "))),
        e => Failure::Other(format!("{what}: {e}")),
    }
}

/// Compares `c` with the golden model; a failure names the first differing element.
fn compare(job: &GemmJob, c: &[u32], what: &str) -> Result<(), Failure> {
    let golden = job
        .golden()
        .map_err(|e| Failure::Other(format!("{what}: golden: {e}")))?;
    let bad: Vec<usize> = (0..golden.len()).filter(|&i| c.get(i) != Some(&golden[i])).collect();
    match bad.first() {
        None => Ok(()),
        Some(&i) => Err(Failure::Mismatch(format!(
            "{what}: {} of {} values differ; first at (m, n) = ({}, {}): hw {:#x}, golden {:#x}",
            bad.len(),
            golden.len(),
            i / job.n,
            i % job.n,
            c.get(i).copied().unwrap_or(0),
            golden[i]
        ))),
    }
}

/// Lets the bus drain for up to `cycles` cycles; a failure if a burst is still open.
fn drained(dev: &mut Device<SimBackend>, cycles: u64, what: &str) -> Result<(), Failure> {
    let mut left = cycles;
    while !dev.backend().memory().idle() && left > 0 {
        let step = left.min(64);
        dev.backend().advance(step).map_err(|e| classify(e, what))?;
        left -= step;
    }
    let m = dev.backend().memory();
    if m.idle() {
        Ok(())
    } else {
        Err(Failure::Dangling(format!(
            "{what}: {} read and {} write bursts still open {cycles} cycles later",
            m.outstanding_reads(),
            m.outstanding_writes()
        )))
    }
}

/// After a fault or a reset: the same job shape with new operands in the same buffers, memory
/// healthy, checked like any job (counted in `r`).
fn next_job(
    dev: &mut Device<SimBackend>,
    job: &GemmJob,
    bufs: &Bufs,
    rng: &mut StdRng,
    r: &mut CaseResult,
) -> Result<(), Failure> {
    dev.backend().set_error_ranges(&[], &[]);
    let mut next = job.clone();
    let fresh = random_job((job.a_fmt, job.w_fmt, job.out), (job.m, job.n, job.k), rng);
    next.a = fresh.a;
    next.w = fresh.w;
    let res = checked_job(dev, &next, bufs, "next job");
    r.cycles = dev.backend().cycles();
    r.values = res?;
    r.jobs_checked += 1;
    Ok(())
}

/// Runs `job` in `bufs` and checks it: golden, protocol, bus idle afterwards.
fn checked_job(dev: &mut Device<SimBackend>, job: &GemmJob, bufs: &Bufs, what: &str) -> Result<u64, Failure> {
    let run = dev.run_gemm(job, &bufs.gemm()).map_err(|e| classify(e, what))?;
    compare(job, &run.c, what)?;
    drained(dev, 0, what)?;
    Ok((job.m * job.n) as u64)
}

/// Runs one case (a reset case aims at one of the [`STATES`] indexed by `aims`, and calibrates
/// first unless given `cal`).
pub fn run_case(
    cfg: &NpeConfig,
    kind: Kind,
    seed: u64,
    max_cycles: u64,
    aims: &[usize],
    cal: Option<Calibration>,
) -> CaseResult {
    let mut r = CaseResult {
        kind,
        seed,
        what: String::new(),
        label: String::new(),
        jobs_checked: 0,
        values: 0,
        cycles: 0,
        failures: Vec::new(),
    };
    let out = match kind {
        Kind::Random => random_case(cfg, seed, max_cycles, &mut r),
        Kind::Fault => fault_case(cfg, seed, max_cycles, &mut r),
        Kind::Reset => match cal {
            Some(cal) => reset_case_with(cfg, cal, aims, seed, max_cycles, &mut r),
            None => reset_case(cfg, aims, seed, max_cycles, &mut r),
        },
    };
    if let Err(f) = out {
        r.failures.push(f);
    }
    r
}

fn random_case(cfg: &NpeConfig, seed: u64, max_cycles: u64, r: &mut CaseResult) -> Result<(), Failure> {
    let mut rng = StdRng::seed_from_u64(seed);
    let job = gen_job(cfg, &mut rng, (24, 24, 80));
    let opts = gen_timing(&mut rng, seed);
    r.what = format!("{}, {}", describe_job(&job), describe_timing(&opts));
    let mut dev = device(cfg, &opts, max_cycles).map_err(|e| classify(e, "setup"))?;
    let bufs = Bufs::new(&mut dev, &job).map_err(|e| classify(e, "setup"))?;
    let res = checked_job(&mut dev, &job, &bufs, "job");
    r.cycles = dev.backend().cycles();
    r.values = res?;
    r.jobs_checked = 1;
    Ok(())
}

/// Where a fault goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    A,
    W,
    Scales,
    C,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::A => "A",
            Target::W => "W",
            Target::Scales => "scales",
            Target::C => "C",
        }
    }
}

/// The bytes of buffer `t` the job's DMA moves (from its start).
fn used_bytes(cfg: &NpeConfig, job: &GemmJob, layout: &Layout, t: Target) -> usize {
    match t {
        Target::A => layout.rows_len(job.m),
        Target::W => layout.rows_len(job.n),
        Target::Scales => Layout::col_scales_len(job.n, cfg.cols as usize).unwrap_or(0),
        Target::C => layout.c_len(job.m),
    }
}

fn fault_case(cfg: &NpeConfig, seed: u64, max_cycles: u64, r: &mut CaseResult) -> Result<(), Failure> {
    let mut rng = StdRng::seed_from_u64(seed);
    let job = gen_job(cfg, &mut rng, (20, 20, 64));
    let opts = gen_timing(&mut rng, seed);
    let mut dev = device(cfg, &opts, max_cycles).map_err(|e| classify(e, "setup"))?;
    let bufs = Bufs::new(&mut dev, &job).map_err(|e| classify(e, "setup"))?;
    let layout = job.validate(cfg).map_err(|e| classify(e, "setup"))?;
    let mut targets = vec![Target::A, Target::W, Target::C];
    if bufs.s.is_some() {
        targets.push(Target::Scales);
    }
    let t = targets[rng.gen_range(0..targets.len())];
    let buf = match t {
        Target::A => &bufs.a,
        Target::W => &bufs.w,
        Target::C => &bufs.c,
        Target::Scales => bufs.s.as_ref().expect("scales are a target only when present"),
    };
    let beats = used_bytes(cfg, &job, &layout, t) / 16;
    let beat_addr = buf.addr() + 16 * rng.gen_range(0..beats.max(1)) as u32;
    let resp = if rng.gen_bool(0.5) {
        AxiResp::SlvErr
    } else {
        AxiResp::DecErr
    };
    let range = [(beat_addr, beat_addr + 16)];
    let (slv, dec) = match resp {
        AxiResp::SlvErr => (range.as_slice(), [].as_slice()),
        _ => ([].as_slice(), range.as_slice()),
    };
    let write = t == Target::C;
    let code = match (write, resp) {
        (false, AxiResp::SlvErr) => ErrorCode::ReadSlvErr,
        (false, _) => ErrorCode::ReadDecErr,
        (true, AxiResp::SlvErr) => ErrorCode::WriteSlvErr,
        (true, _) => ErrorCode::WriteDecErr,
    };
    r.label = format!("{} {:?} in {}", if write { "write" } else { "read" }, resp, t.name());
    r.what = format!(
        "{}, {}, {} at {beat_addr:#x}",
        describe_job(&job),
        describe_timing(&opts),
        r.label
    );
    dev.backend().set_error_ranges(slv, dec);
    let res = dev.run_gemm(&job, &bufs.gemm());
    r.cycles = dev.backend().cycles();
    match res {
        Err(DeviceError::DmaFault { code: got, site }) => {
            if got != code {
                return Err(Failure::WrongError(format!(
                    "expected {code:?}, the device said {got:?}"
                )));
            }
            match site {
                FaultSite::Burst { addr, bytes, buffer }
                    if buffer == t.name() && addr <= beat_addr && beat_addr < addr + bytes => {}
                s => {
                    return Err(Failure::WrongError(format!(
                        "{code:?}: the error names {s}, not a burst of {} holding {beat_addr:#x}",
                        t.name()
                    )))
                }
            }
        }
        Err(e) if matches!(e, DeviceError::Job(c) if dma_write(c).is_some()) => {
            return Err(Failure::WrongError(format!("no address in the error: {e}")))
        }
        Err(e) => return Err(classify(e, "faulted job")),
        Ok(_) => {
            return Err(
                if dev.backend().memory().stats().read_errors + dev.backend().memory().stats().write_errors == 0 {
                    Failure::FaultMissed(format!("no burst touched {beat_addr:#x}"))
                } else {
                    Failure::WrongError("an error burst was answered but the job ended without error".into())
                },
            )
        }
    }
    let st = dev.read("STATUS").map_err(|e| classify(e, "STATUS"))?;
    if regs::status::BUSY.get(st) != 0 {
        return Err(Failure::NotIdle(format!("STATUS {st:#x} after the faulted job")));
    }
    drained(&mut dev, 0, "after the faulted job")?;
    r.jobs_checked = 0;
    next_job(&mut dev, &job, &bufs, &mut rng, r)
}

/// Cycles SOFT_RESET may take to close the bursts in flight (a burst is at most 256 beats; the
/// memory model's latency and backpressure are bounded by the campaign's timing).
pub const RESET_DRAIN_CYCLES: u64 = 4096;

/// The job plan's states, as the campaign aims at them (`hdl/src/accel/job_plan.rs`).
pub const STATES: [&str; 9] = [
    "Idle (before START)",
    "Check",
    "Vet",
    "Derive",
    "Plan",
    "Run",
    "Drain",
    "Finish",
    "Idle (after the job)",
];

/// Indices into [`STATES`], by name: the aims and the labels use these, so a state added to the
/// job plan shifts nothing by hand.
const IDLE_BEFORE: usize = 0;
const CHECK: usize = 1;
const VET: usize = 2;
const DERIVE: usize = 3;
const PLAN: usize = 4;
const RUN: usize = 5;
const DRAIN: usize = 6;
const FINISH: usize = 7;
const IDLE_AFTER: usize = 8;

/// The busy cycle of a job's first Plan cycle (after Check, Vet and Derive, one each).
const PLAN_FROM: u64 = 4;

/// A job's timeline in busy cycles (1 = the first cycle out of Idle), from a reference run.
struct Timeline {
    /// Cycles the job was busy (its last is Finish).
    busy: u64,
    /// Cycles of Plan (Check = 1, Vet = 2, Derive = 3, Plan from 4).
    plan: u64,
    /// For a faulted job: the first busy cycle surely in Drain.
    drain_from: Option<u64>,
}

impl Timeline {
    /// The state of the job plan at busy cycle `d` (0: Idle before the job; `busy`: Finish;
    /// beyond: Idle again).
    fn state(&self, d: u64) -> &'static str {
        match d {
            0 => STATES[IDLE_BEFORE],
            1 => STATES[CHECK],
            2 => STATES[VET],
            3 => STATES[DERIVE],
            d if d > self.busy => STATES[IDLE_AFTER],
            d if d == self.busy => STATES[FINISH],
            d if d < PLAN_FROM + self.plan => STATES[PLAN],
            d if self.drain_from.is_some_and(|f| d >= f) => STATES[DRAIN],
            _ => STATES[RUN],
        }
    }
}

/// Busy cycles of a job's Plan state: one per column tile of the first stripe plus one
/// (`job_plan.rs`: a tile per cycle while half a W bank and the output buffer have room).
fn plan_cycles(cfg: &NpeConfig, layout: &Layout) -> u64 {
    let w_half_beats = u64::from(cfg.w_bank_words) / (2 * u64::from(npe_hdl::spec::config::WORDS_PER_BEAT));
    let kbq = layout.k_beats.max(1) as u64;
    (w_half_beats / kbq).min(u64::from(cfg.out_tiles)) + 1
}

fn busy(dev: &mut Device<SimBackend>) -> Result<u64, Failure> {
    dev.counters().map(|c| c.busy).map_err(|e| classify(e, "counters"))
}

/// Writes START and, when `reset_at` is given, SOFT_RESET in a write that begins `reset_at` bus
/// cycles after START's began (or as soon as START's write returned, if that is later).
/// Returns the bus cycle at which START's write began, the gap between the two writes'
/// beginnings, and how the SOFT_RESET write went.
fn start_then_reset(
    dev: &mut Device<SimBackend>,
    reset_at: Option<u64>,
) -> Result<(u64, u64, Result<(), Failure>), Failure> {
    let ctrl = regs::CTRL.offset;
    let w0 = dev.backend().memory().cycle();
    dev.backend()
        .write_reg(ctrl, regs::ctrl::START.set(0, 1))
        .map_err(|e| classify(e, "START"))?;
    let mut now = dev.backend().memory().cycle();
    let mut reset = Ok(());
    if let Some(at) = reset_at {
        if w0 + at > now {
            dev.backend()
                .advance(w0 + at - now)
                .map_err(|e| classify(e, "running"))?;
            now = w0 + at;
        }
        reset = dev
            .backend()
            .write_reg(ctrl, regs::ctrl::SOFT_RESET.set(0, 1))
            .map_err(|e| classify(e, "SOFT_RESET"));
    }
    Ok((w0, now - w0, reset))
}

/// How register writes line up with the job plan's busy cycles: a CTRL write that begins `g`
/// bus cycles after START's write began acts in busy cycle `g - k` (both are pulses through the
/// same register-file path, so `k` is a constant of the bus master and the register file).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Calibration {
    /// See the type's docs.
    pub k: u64,
}

/// Measures the [`Calibration`] on a long job with an ideal memory.
pub fn calibrate(cfg: &NpeConfig) -> Result<Calibration, String> {
    let err = |e: Failure| format!("calibration: {}", e.text());
    let opts = SimOptions {
        mem_bytes: 1 << 20,
        ..SimOptions::default()
    };
    let mut dev = device(cfg, &opts, 1_000_000).map_err(|e| format!("calibration: {e}"))?;
    let f = operand_formats(cfg)[0];
    let mut rng = StdRng::seed_from_u64(1);
    let job = random_job((f, f, OutputFormat::Fp32), (32, 32, 64), &mut rng);
    let bufs = Bufs::new(&mut dev, &job).map_err(|e| format!("calibration: {e}"))?;
    dev.program_gemm(&job, &bufs.gemm())
        .map_err(|e| format!("calibration: {e}"))?;
    let b0 = busy(&mut dev).map_err(err)?;
    let (_, gap, reset) = start_then_reset(&mut dev, Some(60)).map_err(err)?;
    reset.map_err(err)?;
    let d = busy(&mut dev).map_err(err)? - b0;
    let k = gap
        .checked_sub(d)
        .ok_or_else(|| format!("calibration: the reset landed after {d} busy cycles, {gap} cycles after START"))?;
    Ok(Calibration { k })
}

fn reset_case(cfg: &NpeConfig, aims: &[usize], seed: u64, max_cycles: u64, r: &mut CaseResult) -> Result<(), Failure> {
    let cal = calibrate(cfg).map_err(Failure::Other)?;
    reset_case_with(cfg, cal, aims, seed, max_cycles, r)
}

fn reset_case_with(
    cfg: &NpeConfig,
    cal: Calibration,
    aims: &[usize],
    seed: u64,
    max_cycles: u64,
    r: &mut CaseResult,
) -> Result<(), Failure> {
    let mut rng = StdRng::seed_from_u64(seed);
    let job = gen_job(cfg, &mut rng, (40, 40, 96));
    let opts = gen_timing(&mut rng, seed);
    let aim = aims[rng.gen_range(0..aims.len())];
    let layout = job.validate(cfg).map_err(|e| classify(e, "setup"))?;
    // Drain needs a faulted job: a read fault on a random beat of A.
    let fault = aim == DRAIN;
    let a_beats = layout.rows_len(job.m) / 16;
    let fault_beat = rng.gen_range(0..a_beats.max(1)) as u32;
    let pick = rng.gen::<u64>();
    let setup = || -> Result<(Device<SimBackend>, Bufs, u64), Failure> {
        let mut dev = device(cfg, &opts, max_cycles).map_err(|e| classify(e, "setup"))?;
        let bufs = Bufs::new(&mut dev, &job).map_err(|e| classify(e, "setup"))?;
        if fault {
            let at = bufs.a.addr() + 16 * fault_beat;
            dev.backend().set_error_ranges(&[(at, at + 16)], &[]);
        }
        dev.program_gemm(&job, &bufs.gemm())
            .map_err(|e| classify(e, "program"))?;
        let b0 = busy(&mut dev)?;
        Ok((dev, bufs, b0))
    };
    // The reference: the same job on an identical device, left to end (identical up to the
    // reset: same registers written in the same cycles, same memory seed).
    let (mut dev, _, b0) = setup()?;
    let (w0, _, _) = start_then_reset(&mut dev, None)?;
    let t0 = dev.backend().memory().cycle();
    let mut ended = false;
    while dev.backend().memory().cycle() - t0 < max_cycles {
        let st = dev.read("STATUS").map_err(|e| classify(e, "STATUS"))?;
        if regs::status::DONE.get(st) == 1 {
            ended = true;
            break;
        }
        dev.backend().advance(16).map_err(|e| classify(e, "reference run"))?;
    }
    if !ended {
        return Err(Failure::Hang(format!(
            "the reference run did not end in {max_cycles} cycles"
        )));
    }
    let (_, last_err) = dev.backend().take_bus_faults();
    let total = busy(&mut dev)? - b0;
    let timeline = Timeline {
        busy: total,
        plan: plan_cycles(cfg, &layout),
        // Drain surely holds 4 cycles after the failing burst's last response.
        drain_from: last_err.map(|e| (e - w0).saturating_sub(cal.k) + 4),
    };
    drop(dev);

    // The busy cycle to aim at.
    let span = |lo: u64, hi: u64| if hi > lo { lo + pick % (hi - lo) } else { lo };
    let plan_end = PLAN_FROM + timeline.plan;
    let target = match aim {
        IDLE_BEFORE => 0,
        CHECK => 1,
        VET => 2,
        DERIVE => 3,
        PLAN => span(PLAN_FROM, plan_end),
        RUN => span(plan_end, total),
        DRAIN => {
            let from = timeline.drain_from.unwrap_or(total).min(total);
            span(from, total)
        }
        FINISH => total,
        _ => total + 1 + pick % 200,
    };
    r.what = format!(
        "{}, {}, aimed at {} (busy cycle {target}){}",
        describe_job(&job),
        describe_timing(&opts),
        STATES[aim],
        if fault {
            format!(", read fault at A beat {fault_beat}")
        } else {
            String::new()
        }
    );
    // The reset run.
    let (mut dev, bufs, b0) = setup()?;
    if aim == IDLE_BEFORE {
        // SOFT_RESET before START; the job then runs to its end.
        r.label = timeline.state(0).to_string();
        dev.write("CTRL", regs::ctrl::SOFT_RESET.set(0, 1))
            .map_err(|e| classify(e, "SOFT_RESET"))?;
    } else {
        let (_, gap, reset) = start_then_reset(&mut dev, Some(target + cal.k))?;
        let landing = gap - cal.k;
        // The state is known before the reset's effects are checked.
        r.label = timeline.state(landing).to_string();
        r.what = format!("{}, landed in busy cycle {landing} of {total}", r.what);
        reset?;
        let d = busy(&mut dev)? - b0;
        if d != landing.min(total) {
            return Err(Failure::Other(format!(
                "the reset was to land in busy cycle {landing} (capped at the job's {total}), the BUSY counter says {d}"
            )));
        }
    }
    // From here on every check is made and recorded, so that a failure also shows what it
    // does to the next job (a protocol violation ends the case: every access reports it).
    // BUSY stays set while the DMA engines close the bursts in flight; it must clear, and
    // the bus must then be quiet.
    let mut st = dev.read("STATUS").map_err(|e| classify(e, "STATUS"))?;
    let mut waited = 0;
    while regs::status::BUSY.get(st) != 0 && waited < RESET_DRAIN_CYCLES {
        dev.backend().advance(16).map_err(|e| classify(e, "after SOFT_RESET"))?;
        waited += 16;
        st = dev.read("STATUS").map_err(|e| classify(e, "STATUS"))?;
    }
    if regs::status::BUSY.get(st) != 0 {
        r.failures.push(Failure::NotIdle(format!(
            "STATUS {st:#x} {RESET_DRAIN_CYCLES} cycles after SOFT_RESET"
        )));
    }
    if let Err(f) = drained(&mut dev, 0, "after SOFT_RESET") {
        r.failures.push(f);
    }
    if aim == IDLE_BEFORE {
        // The job programmed before the reset, started after it.
        let res = dev.start_and_wait().map_err(|e| classify(e, "job after reset"));
        let c = res.and_then(|()| {
            let bytes = dev
                .read_buffer(&bufs.c, 0, layout.c_len(job.m))
                .map_err(|e| classify(e, "read C"))?;
            layout
                .unpack_c(&bytes, job.m, job.n)
                .map_err(|e| classify(e, "unpack C"))
        });
        r.cycles = dev.backend().cycles();
        compare(&job, &c?, "job after reset")?;
        r.jobs_checked += 1;
    }
    next_job(&mut dev, &job, &bufs, &mut rng, r)
}

/// A finished campaign.
#[derive(Clone, Debug)]
pub struct Campaign {
    /// What ran.
    pub opts: CampaignOptions,
    /// The register-write calibration the reset cases used.
    pub calibration: Calibration,
    /// Every case, in the order run.
    pub cases: Vec<CaseResult>,
    /// Wall-clock time.
    pub elapsed: Duration,
}

impl Campaign {
    /// Cases of `kind`.
    pub fn of(&self, kind: Kind) -> impl Iterator<Item = &CaseResult> {
        self.cases.iter().filter(move |c| c.kind == kind)
    }

    /// Cases that failed.
    pub fn failed(&self) -> impl Iterator<Item = &CaseResult> {
        self.cases.iter().filter(|c| !c.failures.is_empty())
    }

    /// Failures of class `class` over every case.
    pub fn count(&self, class: &str) -> usize {
        self.cases
            .iter()
            .flat_map(|c| &c.failures)
            .filter(|f| f.class() == class)
            .count()
    }

    /// Cases passed / tried per label (fault kind or reset state) of `kind`.
    pub fn by_label(&self, kind: Kind) -> BTreeMap<String, (usize, usize)> {
        let mut m: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for c in self.of(kind) {
            let e = m.entry(c.label.clone()).or_default();
            e.1 += 1;
            if c.failures.is_empty() {
                e.0 += 1;
            }
        }
        m
    }
}

/// Runs the campaign; `progress` is called after every case.
pub fn run(opts: &CampaignOptions, mut progress: impl FnMut(&CaseResult, usize, usize)) -> Result<Campaign, String> {
    let t0 = Instant::now();
    let cfg = opts.preset;
    if npe_sim::tops::by_name(cfg.name).is_none() {
        return Err(format!("no simulated top for preset {}", cfg.name));
    }
    let calibration = calibrate(&cfg)?;
    let plan: Vec<(Kind, usize)> = [
        (Kind::Random, opts.random),
        (Kind::Fault, opts.faults),
        (Kind::Reset, opts.resets),
    ]
    .into_iter()
    .flat_map(|(k, n)| (0..n).map(move |i| (k, i)))
    .collect();
    let mut cases = Vec::with_capacity(plan.len());
    for (i, &(kind, index)) in plan.iter().enumerate() {
        let seed = case_seed(opts.seed, kind, index as u64);
        let r = run_case(&cfg, kind, seed, opts.max_cycles, &opts.reset_aims, Some(calibration));
        progress(&r, i + 1, plan.len());
        cases.push(r);
    }
    Ok(Campaign {
        opts: opts.clone(),
        calibration,
        cases,
        elapsed: t0.elapsed(),
    })
}

mod generate;
mod report;
use generate::{describe_job, describe_timing, gen_job, gen_timing, operand_formats};
pub use report::{protocol_section, report};
