//! What a run found: medians and spreads, ratios to the native and Python
//! subjects (and, for the composed consumer, to wasio's Rust API and the
//! raw guest), the goals, the table, `results.json` and the chart.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::subjects::{Kind, Subject};
use crate::workloads::{Sample, Workload};

/// Every sample of one workload against one subject.
#[derive(Debug, Clone)]
pub struct Entry {
    pub workload: Workload,
    pub subject: Subject,
    pub samples: Vec<Sample>,
}

/// The median, smallest and largest of some figures.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Summary {
    pub fn of(values: &[f64]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Some(Self {
            median,
            min: sorted[0],
            max: sorted[n - 1],
        })
    }

    /// Half the range, relative to the median, in percent.
    pub fn spread(&self) -> f64 {
        if self.median == 0.0 {
            0.0
        } else {
            (self.max - self.min) / 2.0 / self.median * 100.0
        }
    }
}

impl Entry {
    pub fn summary(&self) -> Option<Summary> {
        Summary::of(&self.samples.iter().map(|s| s.value).collect::<Vec<_>>())
    }

    /// The medians of the extra figures, in the order the samples give them.
    pub fn extras(&self) -> Vec<(&'static str, Summary)> {
        let Some(first) = self.samples.first() else {
            return Vec::new();
        };
        first
            .extra
            .iter()
            .filter_map(|(name, _)| {
                let values: Vec<f64> = self
                    .samples
                    .iter()
                    .filter_map(|s| s.extra.iter().find(|(n, _)| n == name).map(|(_, v)| *v))
                    .collect();
                Summary::of(&values).map(|s| (*name, s))
            })
            .collect()
    }
}

/// Everything one run measured.
#[derive(Debug, Default)]
pub struct Results {
    pub entries: Vec<Entry>,
    /// Host calls per line, by subject: (subject, what, calls).
    pub host_calls: Vec<(Subject, &'static str, f64)>,
    pub failures: Vec<String>,
}

impl Results {
    pub fn add(&mut self, workload: Workload, subject: Subject, sample: Sample) {
        match self
            .entries
            .iter_mut()
            .find(|e| e.workload == workload && e.subject == subject)
        {
            Some(entry) => entry.samples.push(sample),
            None => self.entries.push(Entry {
                workload,
                subject,
                samples: vec![sample],
            }),
        }
    }

    pub fn median(&self, workload: Workload, subject: Subject) -> Option<f64> {
        self.entries
            .iter()
            .find(|e| e.workload == workload && e.subject == subject)
            .and_then(Entry::summary)
            .map(|s| s.median)
    }

    fn extra(&self, workload: Workload, subject: Subject, name: &str) -> Option<f64> {
        self.entries
            .iter()
            .find(|e| e.workload == workload && e.subject == subject)?
            .extras()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| s.median)
    }

    /// How many times better `subject` did than `other` (above 1: better).
    pub fn ratio(&self, workload: Workload, subject: Subject, other: Subject) -> Option<f64> {
        let a = self.median(workload, subject)?;
        let b = self.median(workload, other)?;
        if a == 0.0 || b == 0.0 {
            return None;
        }
        Some(if workload.higher_is_better() {
            a / b
        } else {
            b / a
        })
    }

    /// The table of absolute figures and ratios.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<18} {:<20} {:>13} {:<13} {:>7} {:>8} {:>9}  other figures (medians)",
            "workload", "subject", "median", "unit", "spread", "× tokio", "× asyncio"
        );
        for entry in &self.entries {
            let Some(summary) = entry.summary() else {
                continue;
            };
            let ratio = |other: Subject| {
                self.ratio(entry.workload, entry.subject, other)
                    .map_or("-".to_owned(), |r| format!("{r:.2}"))
            };
            let extras: Vec<String> = entry
                .extras()
                .iter()
                .map(|(name, s)| format!("{name} {}", figure(s.median)))
                .collect();
            let _ = writeln!(
                out,
                "{:<18} {:<20} {:>13} {:<13} {:>6.1}% {:>8} {:>9}  {}",
                entry.workload.name(),
                entry.subject.name(),
                figure(summary.median),
                entry.workload.unit(),
                summary.spread(),
                ratio(entry.subject.native()),
                ratio(entry.subject.asyncio()),
                extras.join(", ")
            );
        }
        let composed: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| {
                matches!(
                    e.subject.kind,
                    Kind::Composed | Kind::ComposedSingle | Kind::ComposedCli
                )
            })
            .collect();
        if !composed.is_empty() {
            let _ = writeln!(
                out,
                "\nthrough the WIT boundary (a consumer component composed with wasio):"
            );
            let _ = writeln!(
                out,
                "  {:<18} {:<20} {:>13} {:>14}",
                "workload", "subject", "× wasio api", "× raw wasi tcp"
            );
            for entry in composed {
                let ratio = |other: Subject| {
                    self.ratio(entry.workload, entry.subject, other)
                        .map_or("-".to_owned(), |r| format!("{r:.2}"))
                };
                let _ = writeln!(
                    out,
                    "  {:<18} {:<20} {:>13} {:>14}",
                    entry.workload.name(),
                    entry.subject.name(),
                    ratio(entry.subject.in_component()),
                    ratio(Subject::tcp(Kind::Raw)),
                );
            }
        }
        if !self.host_calls.is_empty() {
            let _ = writeln!(out, "\nhost calls per line (counted by a call hook):");
            for (subject, what, calls) in &self.host_calls {
                let _ = writeln!(out, "  {:<20} {:<18} {calls:.3}", subject.name(), what);
            }
        }
        for failure in &self.failures {
            let _ = writeln!(out, "FAILED: {failure}");
        }
        out
    }

    /// The issue's goals: (goal, measured, met).
    pub fn goals(&self) -> Vec<(String, Option<f64>, bool)> {
        let wasio = Subject::tcp(Kind::Wasio);
        let wasio_unix = Subject::unix(Kind::Wasio);
        let mut goals = Vec::new();
        let mut at_least = |name: String, value: Option<f64>, bound: f64| {
            goals.push((name, value, value.is_some_and(|v| v >= bound)));
        };
        for subject in [wasio, wasio_unix] {
            let transport = if subject.unix { "unix" } else { "tcp" };
            for (workload, native, python) in [
                (Workload::LineEcho, 0.8, Some(10.0)),
                (Workload::RequestResponse, 0.7, Some(3.0)),
                (Workload::BulkUp, 0.8, None),
                (Workload::BulkDown, 0.8, None),
            ] {
                at_least(
                    format!("{} {transport} ≥ {native}× tokio", workload.name()),
                    self.ratio(workload, subject, subject.native()),
                    native,
                );
                if let Some(python) = python {
                    at_least(
                        format!("{} {transport} ≥ {python}× asyncio", workload.name()),
                        self.ratio(workload, subject, subject.asyncio()),
                        python,
                    );
                }
            }
        }
        let composed = Subject::tcp(Kind::Composed);
        for (workload, bound) in [
            (Workload::RequestResponse, 0.8),
            (Workload::BulkUp, 0.8),
            (Workload::BulkDown, 0.8),
            (Workload::LineEcho, 0.5),
        ] {
            at_least(
                format!("composed {} ≥ {bound}× wasio api", workload.name()),
                self.ratio(workload, composed, wasio),
                bound,
            );
        }
        let crowd = Workload::Concurrency(1000);
        at_least(
            "composed 1000 connections ≥ 0.5× wasio api".to_owned(),
            self.ratio(crowd, composed, wasio),
            0.5,
        );
        for (subject, what) in [(wasio, "api"), (composed, "composed")] {
            let per_line =
                |count| self.extra(Workload::Concurrency(count), subject, "server CPU µs/line");
            let growth = per_line(10_000)
                .zip(per_line(10))
                .map(|(many, few)| many / few);
            goals.push((
                format!("CPU per line, 10,000 / 10 connections ≤ 1.5 ({what})"),
                growth,
                growth.is_some_and(|g| g <= 1.5),
            ));
        }
        let memory = self.extra(crowd, wasio, "guest memory B/conn");
        goals.push((
            "guest memory per idle connection ≤ 16 KiB (bytes)".to_owned(),
            memory,
            memory.is_some_and(|m| m <= 16.0 * 1024.0),
        ));
        let calls = self
            .host_calls
            .iter()
            .find(|(s, what, _)| *s == wasio && *what == "line echo")
            .map(|(_, _, c)| *c);
        goals.push((
            "host calls per echoed line < 1.5 (tcp)".to_owned(),
            calls,
            calls.is_some_and(|c| c < 1.5),
        ));
        goals
    }

    pub fn goals_table(&self) -> String {
        let mut out = String::from("goals:\n");
        for (goal, value, met) in self.goals() {
            let value = value.map_or("-".to_owned(), figure);
            let verdict = if met { "met" } else { "MISSED" };
            let _ = writeln!(out, "  {goal:<42} {value:>10}  {verdict}");
        }
        out
    }

    pub fn json(&self, context: Value) -> Value {
        let entries: Vec<Value> = self
            .entries
            .iter()
            .filter_map(|e| {
                let s = e.summary()?;
                let extras: serde_json::Map<String, Value> = e
                    .extras()
                    .into_iter()
                    .map(|(n, s)| (n.to_owned(), json!(round(s.median))))
                    .collect();
                Some(json!({
                    "workload": e.workload.name(),
                    "subject": e.subject.name(),
                    "unit": e.workload.unit(),
                    "median": round(s.median),
                    "min": round(s.min),
                    "max": round(s.max),
                    "spread_percent": round(s.spread()),
                    "ratio_to_tokio": self.ratio(e.workload, e.subject, e.subject.native()).map(round),
                    "ratio_to_asyncio": self.ratio(e.workload, e.subject, e.subject.asyncio()).map(round),
                    "ratio_to_wasio_api": self.ratio(e.workload, e.subject, e.subject.in_component()).map(round),
                    "ratio_to_raw_wasi": self.ratio(e.workload, e.subject, Subject::tcp(Kind::Raw)).map(round),
                    "samples": e.samples.iter().map(|s| round(s.value)).collect::<Vec<_>>(),
                    "other": extras,
                }))
            })
            .collect();
        let calls: Vec<Value> = self
            .host_calls
            .iter()
            .map(|(s, what, c)| json!({"subject": s.name(), "workload": what, "host_calls_per_line": round(*c)}))
            .collect();
        let goals: Vec<Value> = self
            .goals()
            .into_iter()
            .map(|(g, v, met)| json!({"goal": g, "measured": v.map(round), "met": met}))
            .collect();
        json!({
            "context": context,
            "results": entries,
            "host_calls": calls,
            "goals": goals,
            "failures": self.failures,
        })
    }

    /// A bar chart (SVG) of each subject's figure relative to native tokio
    /// with the same algorithm on the same transport.
    pub fn chart(&self, title: &str) -> String {
        let workloads: Vec<Workload> = Workload::ALL
            .into_iter()
            .filter(|w| *w != Workload::Startup)
            .collect();
        let series = [
            (Subject::tcp(Kind::Wasio), "#1f77b4", "wasio (TCP)"),
            (Subject::unix(Kind::Wasio), "#6baed6", "wasio (Unix)"),
            (
                Subject::tcp(Kind::WasioP3),
                "#17becf",
                "wasio over WASI 0.3 (TCP)",
            ),
            (
                Subject::tcp(Kind::Raw),
                "#7f7f7f",
                "raw wasi:sockets guest (TCP)",
            ),
            (
                Subject::tcp(Kind::Composed),
                "#9467bd",
                "wasio through its WIT exports, composed (TCP)",
            ),
            (
                Subject::tcp(Kind::TokioNaive),
                "#2ca02c",
                "tokio, write_all per line (TCP)",
            ),
            (
                Subject::tcp(Kind::Asyncio),
                "#ff7f0e",
                "CPython asyncio (TCP)",
            ),
            (
                Subject::unix(Kind::Asyncio),
                "#fdae6b",
                "CPython asyncio (Unix)",
            ),
        ];
        let (width, height) = (1000.0, 470.0);
        let (left, right, top, bottom) = (60.0, 20.0, 90.0, 60.0);
        let plot_w = width - left - right;
        let plot_h = height - top - bottom;
        let y_max = 1.5f64;
        let y = |v: f64| top + plot_h * (1.0 - v.min(y_max) / y_max);
        let mut svg = String::new();
        let _ = writeln!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="22" text-anchor="middle" font-size="15" font-weight="bold">{}</text>"#,
            width / 2.0,
            escape(title)
        );
        for (i, (_, color, label)) in series.iter().enumerate() {
            let x = left + (i % 3) as f64 * 300.0;
            let ly = 42.0 + (i / 3) as f64 * 18.0;
            let _ = writeln!(
                svg,
                r#"<rect x="{x}" y="{}" width="12" height="12" fill="{color}"/><text x="{}" y="{}">{}</text>"#,
                ly - 10.0,
                x + 16.0,
                ly,
                escape(label)
            );
        }
        for step in 0..=6 {
            let v = step as f64 * 0.25;
            let _ = writeln!(
                svg,
                r##"<line x1="{left}" x2="{}" y1="{y}" y2="{y}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end">{v:.2}×</text>"##,
                left + plot_w,
                left - 6.0,
                y(v) + 4.0,
                y = y(v)
            );
        }
        let _ = writeln!(
            svg,
            r##"<line x1="{left}" x2="{}" y1="{y1}" y2="{y1}" stroke="#000" stroke-dasharray="6 3"/><text x="{}" y="{}" text-anchor="end" font-size="11">native tokio, same algorithm = 1</text>"##,
            left + plot_w,
            left + plot_w,
            y(1.0) - 4.0,
            y1 = y(1.0)
        );
        let group_w = plot_w / workloads.len() as f64;
        let bar_w = (group_w - 16.0) / series.len() as f64;
        for (g, workload) in workloads.iter().enumerate() {
            let gx = left + g as f64 * group_w + 8.0;
            for (i, (subject, color, _)) in series.iter().enumerate() {
                let Some(r) = self.ratio(*workload, *subject, subject.native()) else {
                    continue;
                };
                let x = gx + i as f64 * bar_w;
                let _ = writeln!(
                    svg,
                    r#"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{color}"><title>{}: {}: {r:.2}×</title></rect>"#,
                    y(r),
                    bar_w - 1.0,
                    y(0.0) - y(r),
                    escape(workload.name()),
                    escape(subject.name())
                );
                let label = if r > y_max {
                    format!("{r:.1}↑")
                } else {
                    format!("{r:.2}")
                };
                let _ = writeln!(
                    svg,
                    r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="8">{label}</text>"#,
                    x + bar_w / 2.0,
                    y(r) - 2.0
                );
            }
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
                gx + group_w / 2.0 - 8.0,
                top + plot_h + 18.0,
                escape(workload.name())
            );
        }
        let _ = writeln!(
            svg,
            r##"<line x1="{left}" x2="{left}" y1="{top}" y2="{}" stroke="#000"/><line x1="{left}" x2="{}" y1="{}" y2="{}" stroke="#000"/>"##,
            top + plot_h,
            left + plot_w,
            top + plot_h,
            top + plot_h
        );
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle" font-size="11">median throughput relative to native tokio with the same algorithm on the same transport (higher is better)</text>"#,
            width / 2.0,
            height - 12.0
        );
        svg.push_str("</svg>\n");
        svg
    }
}

fn round(v: f64) -> f64 {
    if v.abs() >= 100.0 {
        v.round()
    } else {
        (v * 1000.0).round() / 1000.0
    }
}

/// A figure with thousands separators, or three decimals when small.
pub fn figure(v: f64) -> String {
    if v.abs() < 100.0 {
        return format!("{v:.2}");
    }
    let digits = format!("{:.0}", v.round());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 && c != '-' {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
