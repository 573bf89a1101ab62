//! What `/proc` tells of a process: its peak memory and the CPU time it has used, for
//! our children, the bench itself and the servers it talks to.

/// Peak resident set size (`VmHWM`) of `pid`, in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

/// User plus system CPU time of `pid` (or `self`) so far, in seconds.
pub fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat_cpu_seconds(&stat)
}

/// CPU seconds of every process whose command name is `comm` (`postgres`, `beam.smp`):
/// the services are not our children, but their share tells where the time goes.
pub fn cpu_seconds_of(comm: &str) -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("stat")).ok())
        .filter(|stat| command_name(stat) == Some(comm))
        .filter_map(|stat| stat_cpu_seconds(&stat))
        .sum()
}

fn command_name(stat: &str) -> Option<&str> {
    let (head, _) = stat.rsplit_once(')')?;
    Some(head.split_once('(')?.1)
}

/// utime plus stime of a `/proc/<pid>/stat` line. The command name may hold spaces;
/// the fields after its closing parenthesis start at field 3, so utime and stime
/// (fields 14 and 15) are at 11 and 12.
fn stat_cpu_seconds(stat: &str) -> Option<f64> {
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux this runs on.
    Some(ticks as f64 / 100.0)
}
