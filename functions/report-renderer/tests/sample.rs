//! Writes the report for the sample event (the seed data's suppliers and beans) to a file, to
//! look at in a browser: `cargo test -p report-renderer --test sample -- --ignored`. The file is
//! `REPORT_SAMPLE_PATH`, or `report-sample.html` in the temporary directory; the inventory is
//! the JSON file `REPORT_SAMPLE_INVENTORY` when set; prices are in `REPORT_CURRENCY` and times in
//! `CAFE_TIME_ZONE`, as the deployed function reads them.

use cafe_shared::config::{CAFE_TIME_ZONE, REPORT_CURRENCY};
use cafe_shared::inventory::{Inventory, InventoryPayload};
use cafe_tests::sample_event;
use report_renderer::{RenderRequest, ReportSettings, render};

#[test]
#[ignore = "writes a file to look at; run by hand"]
fn write_the_sample_report() {
    let inventory: Inventory = match std::env::var_os("REPORT_SAMPLE_INVENTORY") {
        Some(path) => serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap(),
        None => {
            let request: RenderRequest = sample_event("report-renderer/default.json");
            let InventoryPayload::Inline(inventory) = request.inventory else {
                panic!("inline sample")
            };
            inventory
        }
    };
    let settings = ReportSettings {
        currency: REPORT_CURRENCY.parse().unwrap(),
        time_zone: CAFE_TIME_ZONE.parse().unwrap(),
        ..ReportSettings::default()
    };
    let html = render(&inventory, &settings).unwrap();
    let path = std::env::var_os("REPORT_SAMPLE_PATH").map_or_else(
        || std::env::temp_dir().join("report-sample.html"),
        Into::into,
    );
    std::fs::write(&path, html).unwrap();
    println!("wrote {}", path.display());
}
