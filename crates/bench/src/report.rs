//! One table of figures, each with its target and whether it was met; printed, and
//! written as JSON and Markdown under `bench/results/`.

use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use crate::machine::Machine;

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Met,
    Missed,
    /// A figure shown for context, with no target of its own.
    Info,
}

impl Verdict {
    fn label(self) -> &'static str {
        match self {
            Verdict::Met => "met",
            Verdict::Missed => "MISSED",
            Verdict::Info => "",
        }
    }

    pub fn of(met: bool) -> Self {
        if met {
            Verdict::Met
        } else {
            Verdict::Missed
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Row {
    pub measure: String,
    /// The figure as a person reads it, unit included.
    pub figure: String,
    /// The number behind `figure`, for tools comparing runs.
    pub value: Option<f64>,
    pub target: String,
    pub verdict: Verdict,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub started_at: String,
    pub seconds: f64,
    pub machine: Machine,
    pub rows: Vec<Row>,
}

impl Report {
    pub fn add(
        &mut self,
        measure: &str,
        figure: String,
        value: Option<f64>,
        target: &str,
        verdict: Verdict,
    ) {
        self.rows.push(Row {
            measure: measure.to_owned(),
            figure,
            value,
            target: target.to_owned(),
            verdict,
        });
    }

    pub fn info(&mut self, measure: &str, figure: String, value: Option<f64>) {
        self.add(measure, figure, value, "", Verdict::Info);
    }

    fn cells(&self) -> Vec<[String; 4]> {
        let mut cells = vec![["measure", "figure", "target", "verdict"].map(String::from)];
        cells.extend(self.rows.iter().map(|row| {
            [
                row.measure.clone(),
                row.figure.clone(),
                row.target.clone(),
                row.verdict.label().to_owned(),
            ]
        }));
        cells
    }

    fn machine_line(&self) -> String {
        let m = &self.machine;
        format!(
            "{} CPUs ({}), {} MiB RAM, RabbitMQ {}, PostgreSQL {}; started {} at load average {}, took {:.0} s",
            m.nproc,
            m.cpu_model,
            m.memory_mib,
            m.rabbitmq,
            m.postgresql,
            self.started_at,
            m.load_at_start,
            self.seconds
        )
    }

    /// The table as plain text, columns padded to their widest cell.
    pub fn text(&self) -> String {
        let cells = self.cells();
        let widths: Vec<usize> = (0..4)
            .map(|c| {
                cells
                    .iter()
                    .map(|row| row[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = format!("{}\n\n", self.machine_line());
        for (index, row) in cells.iter().enumerate() {
            let line: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            out.push_str(line.join("  ").trim_end());
            out.push('\n');
            if index == 0 {
                let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
                out.push_str(&rule.join("  "));
                out.push('\n');
            }
        }
        out
    }

    pub fn markdown(&self) -> String {
        let cells = self.cells();
        let mut out = format!("# provisioner bench\n\n{}\n\n", self.machine_line());
        for (index, row) in cells.iter().enumerate() {
            let escaped: Vec<String> = row.iter().map(|cell| cell.replace('|', "\\|")).collect();
            out.push_str(&format!("| {} |\n", escaped.join(" | ")));
            if index == 0 {
                out.push_str("|---|---|---|---|\n");
            }
        }
        out
    }

    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {dir:?}"))?;
        std::fs::write(dir.join("latest.json"), serde_json::to_string_pretty(self)?)?;
        std::fs::write(dir.join("latest.md"), self.markdown())?;
        Ok(())
    }
}
