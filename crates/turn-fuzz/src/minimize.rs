//! Delta-debugging minimization: make a failing input as small as possible
//! while it still fails the same way.
//!
//! Removes chunks of lines, then chunks of characters, halving the chunk
//! size each round (Zeller's ddmin, complement-only), until no single line
//! or character can go or the test budget is spent. The caller decides what
//! "still fails" means (usually: the same failure signature).

/// The smallest input found that `still_fails`, trying at most `max_tests`
/// candidates. `input` itself is assumed to fail.
pub fn minimize(
    input: &str,
    mut still_fails: impl FnMut(&str) -> bool,
    max_tests: usize,
) -> String {
    let mut tests = 0usize;
    let lines: Vec<&str> = input.split_inclusive('\n').collect();
    let lines = reduce(lines, &mut still_fails, &mut tests, max_tests, |parts| {
        parts.concat()
    });
    let text = lines.concat();
    let chars: Vec<char> = text.chars().collect();
    let chars = reduce(chars, &mut still_fails, &mut tests, max_tests, |parts| {
        parts.iter().collect()
    });
    chars.into_iter().collect()
}

/// ddmin over `parts`: drop chunks while the joined rest still fails.
fn reduce<T: Clone>(
    mut parts: Vec<T>,
    still_fails: &mut impl FnMut(&str) -> bool,
    tests: &mut usize,
    max_tests: usize,
    join: impl Fn(&[T]) -> String,
) -> Vec<T> {
    let mut chunk = parts.len().div_ceil(2).max(1);
    loop {
        let mut removed_any = false;
        let mut i = 0;
        while i < parts.len() {
            if *tests >= max_tests {
                return parts;
            }
            let end = (i + chunk).min(parts.len());
            let candidate: Vec<T> = parts[..i].iter().chain(&parts[end..]).cloned().collect();
            *tests += 1;
            if still_fails(&join(&candidate)) {
                parts = candidate;
                removed_any = true;
            } else {
                i += chunk;
            }
        }
        if chunk == 1 {
            if !removed_any {
                return parts;
            }
            // Single elements: repeat until nothing more can go.
        } else {
            chunk = chunk.div_ceil(2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::minimize;

    #[test]
    fn keeps_only_what_fails() {
        let input = "let a = 1;\nlet b = 2;\nboom(3);\nlet c = 4;\n";
        let out = minimize(input, |s| s.contains("boom"), 10_000);
        assert_eq!(out, "boom");
    }

    #[test]
    fn respects_the_budget() {
        let input = "x".repeat(1000) + "!";
        let mut calls = 0;
        let _ = minimize(
            &input,
            |s| {
                calls += 1;
                s.contains('!')
            },
            50,
        );
        assert!(calls <= 50);
    }

    #[test]
    fn nesting_shrinks() {
        let input = format!("{}{}", "(".repeat(5000), ")".repeat(5000));
        let out = minimize(&input, |s| s.matches('(').count() >= 300, 5_000);
        assert_eq!(out, "(".repeat(300));
    }
}
