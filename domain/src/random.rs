//! Unpredictable numbers from the operating system's CSPRNG. Access codes guard
//! conferences, so they must not come from a seeded or guessable generator.

/// `len` decimal digits drawn uniformly from the OS CSPRNG. `first_nonzero` keeps the
/// leading digit in 1–9 (conference numbers are read aloud and typed into forms
/// that drop leading zeros).
pub fn digits(len: usize, first_nonzero: bool) -> String {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 32];
    while out.len() < len {
        getrandom::fill(&mut buf).expect("the OS random source is available");
        for &b in &buf {
            // Rejection sampling: 250 is the largest multiple of 10 ≤ 256, so every
            // digit is equally likely.
            if b >= 250 {
                continue;
            }
            let d = b % 10;
            if out.is_empty() && first_nonzero && d == 0 {
                continue;
            }
            out.push(char::from(b'0' + d));
            if out.len() == len {
                break;
            }
        }
    }
    out
}

/// `n` random bytes from the OS CSPRNG (tokens, salts).
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("the OS random source is available");
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_have_the_asked_length_and_only_digits() {
        for len in [1, 4, 7, 10, 40] {
            let d = digits(len, true);
            assert_eq!(d.len(), len);
            assert!(d.bytes().all(|b| b.is_ascii_digit()));
            assert_ne!(d.as_bytes()[0], b'0');
        }
    }

    #[test]
    fn digits_are_roughly_uniform() {
        let mut counts = [0u32; 10];
        for b in digits(20_000, false).bytes() {
            counts[usize::from(b - b'0')] += 1;
        }
        // Each digit expects 2,000; ±15 % is > 10 standard deviations.
        assert!(
            counts.iter().all(|&c| (1_700..=2_300).contains(&c)),
            "{counts:?}"
        );
    }
}
