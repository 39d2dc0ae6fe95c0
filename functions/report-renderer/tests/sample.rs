//! Writes the report for the sample event (the seed data's suppliers and beans) to a file, to
//! look at in a browser: `cargo test -p report-renderer --test sample -- --ignored`. The file is
//! `REPORT_SAMPLE_PATH`, or `report-sample.html` in the temporary directory; the inventory is
//! the JSON file `REPORT_SAMPLE_INVENTORY` when set, and prices are in `REPORT_CURRENCY`.

use cafe_shared::inventory::{Inventory, InventoryPayload};
use cafe_tests::sample_event;
use report_renderer::{Currency, RenderRequest, render_in};

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
    let currency: Currency = std::env::var("REPORT_CURRENCY")
        .map_or(Ok(Currency::USD), |code| code.parse())
        .unwrap();
    let html = render_in(&inventory, 50, currency).unwrap();
    let path = std::env::var_os("REPORT_SAMPLE_PATH").map_or_else(
        || std::env::temp_dir().join("report-sample.html"),
        Into::into,
    );
    std::fs::write(&path, html).unwrap();
    println!("wrote {}", path.display());
}
