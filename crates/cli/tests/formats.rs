//! `gstpipe formats`: the table and its JSON. (docs/formats.md, generated from its Markdown,
//! is checked by `cargo xtask docs --check`, part of `cargo xtask test`.)

use crate::util::gstpipe;

#[test]
fn json_lists_the_common_formats() {
    let run = gstpipe(&["formats", "--json"]).success();
    let rows: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).unwrap();
    let find = |name: &str| {
        rows.iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing"))
            .clone()
    };
    let rgb = find("RGB");
    assert_eq!(
        (
            rgb["channels"].as_u64(),
            rgb["dtype"].as_str(),
            rgb["planes"].as_u64()
        ),
        (Some(3), Some("u8"), Some(1))
    );
    let gray16 = find("GRAY16_LE");
    assert_eq!(
        (gray16["channels"].as_u64(), gray16["dtype"].as_str()),
        (Some(1), Some("u16"))
    );
    assert_eq!(find("I420")["planes"], 3);
    assert_eq!(find("NV12")["planes"], 2);
}

#[test]
fn table_has_a_header_and_one_row_per_format() {
    let table = gstpipe(&["formats"]).success().stdout;
    let json = gstpipe(&["formats", "--json"]).success().stdout;
    let rows: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("name"), "{}", lines[0]);
    assert_eq!(lines.len(), rows.len() + 1);
    assert!(
        lines
            .iter()
            .any(|l| l.split_whitespace().next() == Some("NV12"))
    );
}
