//! How far the decoding of a file has come, for the upload's progress bar.
//!
//! The decoders are serde visitors and a protobuf reader several calls deep, so rather than
//! thread a callback through every one of them, [`reporting`] sets one for the current thread
//! around a single decode. The decoder, once it knows the format, says how much work there is
//! ([`expect`], in spans or bytes) and then how much is done ([`advance`], [`reach`]). Outside
//! [`reporting`] (the server, the CLI) each of these calls is one thread-local check.

use std::cell::RefCell;

use serde::Deserialize;
use serde::de::{Deserializer, SeqAccess, Visitor};

/// The callback is called at most this many times per decode (at every 1 %).
const REPORTS: u64 = 100;

/// The work of reading one span from JSON (by [`counted`]); converting it into the model is
/// worth a decoder's own `CONVERSION_UNITS`, measured against this.
pub(crate) const READ_UNITS: u64 = 4;

struct Tracker {
    report: Box<dyn FnMut(f64)>,
    /// The work expected, in the decoder's units; 0 until the format is known.
    total: u64,
    done: u64,
    next_report: u64,
    /// The last fraction reported: a decode that starts over in another format (a protobuf
    /// file first tried as JSON) never takes the bar back.
    reported: f64,
}

thread_local! {
    static CURRENT: RefCell<Option<Tracker>> = const { RefCell::new(None) };
}

/// Runs `decode` with `report` called with the fraction of the work done (0 to 1, never
/// decreasing) as it goes, about every 1 %.
pub fn reporting<R>(report: impl FnMut(f64) + 'static, decode: impl FnOnce() -> R) -> R {
    /// Puts back the tracker of an enclosing `reporting`, even if `decode` panics.
    struct Restore(Option<Tracker>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.set(self.0.take());
        }
    }
    let tracker = Tracker {
        report: Box::new(report),
        total: 0,
        done: 0,
        next_report: 0,
        reported: 0.0,
    };
    let _restore = Restore(CURRENT.replace(Some(tracker)));
    decode()
}

/// Sets the work the decode will do, in the units it will [`advance`] by. `count` (a scan of
/// the file, say) runs only when someone is listening.
pub(crate) fn expect(count: impl FnOnce() -> u64) {
    CURRENT.with_borrow_mut(|tracker| {
        if let Some(tracker) = tracker {
            tracker.total = count().max(1);
            tracker.done = 0;
            tracker.next_report = step(tracker.total);
        }
    });
}

/// `units` more of the work are done.
pub(crate) fn advance(units: u64) {
    CURRENT.with_borrow_mut(|tracker| {
        if let Some(tracker) = tracker {
            tracker.done += units;
            tracker.report_if_due();
        }
    });
}

/// The work is done up to `units` (a byte offset, say).
pub(crate) fn reach(units: u64) {
    CURRENT.with_borrow_mut(|tracker| {
        if let Some(tracker) = tracker {
            tracker.done = tracker.done.max(units);
            tracker.report_if_due();
        }
    });
}

/// About how many times `needle` occurs in `haystack`: the work expected of a JSON file is the
/// count of a key that every span has once (`"startTimeUnixNano"`, say). A large file is
/// sampled (a quarter of it, in 32 windows spread over it): counting all of a 50 MB file cost
/// the browser's worker 5 % of its decode, for a bar that needs no more than a good estimate.
pub(crate) fn occurrences(haystack: &[u8], needle: &str) -> u64 {
    const SAMPLED_FROM_BYTES: usize = 4 << 20;
    const WINDOWS: usize = 32;
    const SAMPLED_SHARE: usize = 4;
    let count = |bytes: &[u8]| memchr::memmem::find_iter(bytes, needle.as_bytes()).count() as u64;
    if haystack.len() < SAMPLED_FROM_BYTES {
        return count(haystack);
    }
    let stride = haystack.len() / WINDOWS;
    let window = stride / SAMPLED_SHARE;
    let sampled: u64 = (0..WINDOWS)
        .map(|idx| count(&haystack[idx * stride..idx * stride + window]))
        .sum();
    sampled * SAMPLED_SHARE as u64
}

fn step(total: u64) -> u64 {
    total.div_ceil(REPORTS).max(1)
}

impl Tracker {
    fn report_if_due(&mut self) {
        if self.total > 0 && self.done >= self.next_report {
            // An estimate from a key count can fall short: the bar stops at 100 %.
            let fraction = (self.done as f64 / self.total as f64)
                .min(1.0)
                .max(self.reported);
            self.reported = fraction;
            self.next_report = self.done + step(self.total);
            (self.report)(fraction);
        }
    }
}

/// `#[serde(deserialize_with = "progress::counted")]` for a list of spans: a list like any
/// other, that [`advance`]s by one for each span read.
pub(crate) fn counted<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct Counted<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for Counted<T> {
        type Value = Vec<T>;

        fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
            formatter.write_str("a sequence")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            // As serde's own `Vec`: never trust a size hint for more than a little memory.
            let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
            while let Some(item) = seq.next_element()? {
                items.push(item);
                advance(READ_UNITS);
            }
            Ok(items)
        }
    }
    deserializer.deserialize_seq(Counted(std::marker::PhantomData))
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::*;

    fn recorded(run: impl FnOnce()) -> Vec<f64> {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let sink = seen.clone();
        reporting(move |fraction| sink.borrow_mut().push(fraction), run);
        Rc::try_unwrap(seen).unwrap().into_inner()
    }

    #[test]
    fn reports_about_every_hundredth_never_decreasing_and_at_most_one() {
        let seen = recorded(|| {
            expect(|| 1000);
            for _ in 0..1200 {
                advance(1);
            }
        });
        assert_eq!(
            seen.len(),
            100 + 20,
            "every 10 units, also past the estimate"
        );
        assert_eq!(seen[0], 0.01);
        assert!(seen.windows(2).all(|pair| pair[0] <= pair[1]));
        assert_eq!(seen.last(), Some(&1.0));
    }

    #[test]
    fn offsets_report_once_however_far_they_jump() {
        let seen = recorded(|| {
            expect(|| 1000);
            reach(5);
            reach(500);
            reach(400);
            reach(1000);
        });
        assert_eq!(seen, [0.5, 1.0]);
    }

    #[test]
    fn a_decode_that_starts_over_never_takes_the_bar_back() {
        let seen = recorded(|| {
            expect(|| 1000);
            reach(600);
            expect(|| 1000);
            reach(300);
            reach(900);
        });
        assert_eq!(seen, [0.6, 0.6, 0.9]);
    }

    #[test]
    fn nothing_is_counted_or_reported_without_a_listener() {
        expect(|| panic!("counted with nobody listening"));
        advance(1);
        let seen = recorded(|| advance(1));
        assert!(
            seen.is_empty(),
            "nothing is reported before the work is known"
        );
    }

    #[test]
    fn large_files_are_counted_from_samples_within_a_few_percent() {
        let record = br#"{"startTimeUnixNano":"1","name":"a span of some length"},"#;
        for n_records in [1_000, 70_000, 123_457] {
            let mut file = record.repeat(n_records);
            // Spans of varying size, as in a real file.
            file.extend(br#"{"startTimeUnixNano":"2","name":"x"},"#.repeat(n_records / 3));
            let exact = (n_records + n_records / 3) as u64;
            let estimate = occurrences(&file, "\"startTimeUnixNano\"");
            let off = estimate.abs_diff(exact) as f64 / exact as f64;
            assert!(off < 0.05, "{estimate} for {exact}");
            if file.len() < 4 << 20 {
                assert_eq!(estimate, exact, "small files are counted exactly");
            }
        }
    }

    #[test]
    fn a_counted_list_advances_once_per_item() {
        let mut items = Vec::new();
        let seen = recorded(|| {
            expect(|| 4 * READ_UNITS);
            let mut deserializer = serde_json::Deserializer::from_str("[1,2,3,4]");
            items = counted::<_, u32>(&mut deserializer).unwrap();
        });
        assert_eq!(items, [1, 2, 3, 4]);
        assert_eq!(seen, [0.25, 0.5, 0.75, 1.0]);
    }
}
