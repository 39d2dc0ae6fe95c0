//! The sample event `make invoke FN=@name@` sends is this function's request, and is answered.

use @crate@::{Request, answer};

#[test]
fn the_sample_event_is_answered() {
    let request: Request = cafe_tests::sample_event("@name@/default.json");
    let answer = answer(&request).expect("the sample event is a valid request");
    assert!(answer.greeting.contains(request.name.trim()));
}
