//! Random inputs and tolerant comparison with the CPU reference.

/// Deterministic pseudo-random values in [-1, 1) (a 64-bit LCG; quality is not the point).
pub(crate) fn random(n: usize, seed: u64) -> Vec<f32> {
    let mut state = seed
        .wrapping_mul(0x5851_f42d_4c95_7f2d)
        .wrapping_add(0x1405_7b7e_f767_814f);
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            #[allow(clippy::cast_precision_loss)] // 24 random bits fit an f32 exactly.
            let unit = (state >> 40) as f32 / (1u64 << 24) as f32;
            unit * 2.0 - 1.0
        })
        .collect()
}

/// Checks `got` against `want` with a relative tolerance; the error names the first mismatch.
pub(crate) fn compare(what: &str, got: &[f64], want: &[f64], tolerance: f64) -> Result<(), String> {
    if got.len() != want.len() {
        return Err(format!(
            "{what}: {} results, expected {}",
            got.len(),
            want.len()
        ));
    }
    for (index, (&g, &w)) in got.iter().zip(want).enumerate() {
        let ok = (g - w).abs() <= tolerance * w.abs().max(1.0) || (g.is_nan() && w.is_nan());
        if !ok {
            return Err(format!(
                "{what}: element {index} is {g}, the CPU reference is {w}"
            ));
        }
    }
    println!("  ok  {what}: {} values match the CPU reference", got.len());
    Ok(())
}
