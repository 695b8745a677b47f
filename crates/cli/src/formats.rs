//! `gstpipe formats`: the raw video format table.

use anyhow::{Context as _, Result};
use gstpipe_frame::FormatInfo;
use serde_json::{Value, json};
use std::io::Write as _;

/// Options of `gstpipe formats`.
#[derive(Debug, clap::Args)]
pub struct FormatsArgs {
    /// Print a JSON array instead of a table: one object per format with `name`, `channels`
    /// (null unless packed), `dtype`, `planes`, `layout`, `byte_order`, `depth`.
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// Print the Markdown reference (what docs/formats.md is generated from).
    #[arg(long)]
    pub markdown: bool,
}

/// Runs `gstpipe formats`.
pub fn run(args: FormatsArgs) -> Result<()> {
    gstpipe_core::init()?;
    let text = if args.markdown {
        gstpipe_frame::formats_markdown()
    } else if args.json {
        let rows: Vec<Value> = gstpipe_frame::formats().iter().map(to_json).collect();
        format!("{}\n", serde_json::to_string_pretty(&rows)?)
    } else {
        table(&gstpipe_frame::formats())
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("cannot write to stdout")
}

fn to_json(info: &FormatInfo) -> Value {
    json!({
        "name": info.name(),
        "channels": info.channels(),
        "dtype": info.sample_type().name(),
        "planes": info.n_planes(),
        "layout": info.layout().name(),
        "byte_order": info.byte_order().name(),
        "depth": info.depth(),
    })
}

fn table(infos: &[FormatInfo]) -> String {
    let header = [
        "name",
        "channels",
        "dtype",
        "planes",
        "layout",
        "byte order",
    ];
    let rows: Vec<[String; 6]> = infos
        .iter()
        .map(|i| {
            [
                i.name().to_string(),
                i.channels().map_or_else(|| "-".into(), |c| c.to_string()),
                i.sample_type().name().to_string(),
                i.n_planes().to_string(),
                i.layout().name().to_string(),
                i.byte_order().name().to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let mut out = String::new();
    let mut line = |cells: [&str; 6]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(padded.join("  ").trim_end());
        out.push('\n');
    };
    line(header);
    for row in &rows {
        line(row.each_ref().map(String::as_str));
    }
    out
}
