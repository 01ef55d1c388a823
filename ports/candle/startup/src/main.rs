//! Times, in one fresh process, `Device::new_cuda(0)` and then the first and the second
//! operation of each kind candle runs on CUDA kernels of its own (a unary op, a binary op, a
//! reduction, a softmax, a cast, a quantized matrix-vector product), each to its result on the
//! host. The first call of a kind pays for loading the kernel module (stock candle: the driver
//! JIT-compiles its PTX; the sasskit port: the SASS image is loaded); the second does not.
//!
//! Prints one `op <name> first <ms> second <ms>` line per kind and a `total` line, then the
//! module loads that sasskit logged (`log` records of target `sasskit`, the port only), so that
//! `cargo xtask candle-port bundle`'s `run.sh` can put stock and port side by side.

use std::time::Instant;

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{DType, Device, Module, Result, Tensor, D};

/// Prints the `log` records of sasskit's module loads (one line per load), so the run shows
/// which image each module loaded.
struct LoadLines;

impl log::Log for LoadLines {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target().starts_with("sasskit")
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            println!("load {}", record.args());
        }
    }

    fn flush(&self) {}
}

fn ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}

/// Runs `op` twice, each to its result on the host, and prints both times.
fn first_and_second(name: &str, op: impl Fn() -> Result<Vec<f32>>) -> Result<f64> {
    let start = Instant::now();
    let first = op()?;
    let first_ms = ms(start);
    let start = Instant::now();
    let second = op()?;
    let second_ms = ms(start);
    if first != second {
        candle_core::bail!("{name}: the second run gave other values than the first");
    }
    println!("op {name:<10} first {first_ms:>9.2} ms  second {second_ms:>7.3} ms");
    Ok(first_ms)
}

fn main() -> Result<()> {
    log::set_logger(&LoadLines).expect("the only logger");
    log::set_max_level(log::LevelFilter::Info);
    let started = Instant::now();
    let device = Device::new_cuda(0)?;
    println!("op {:<10} first {:>9.2} ms", "device", ms(started));

    // Inputs made on the CPU and copied over: no kernel of candle runs before the first op.
    let values: Vec<f32> = (0..4096).map(|i| (i % 97) as f32 / 97.0 - 0.5).collect();
    let x = Tensor::from_vec(values.clone(), (64, 64), &Device::Cpu)?.to_device(&device)?;
    let y = Tensor::from_vec(values.iter().rev().copied().collect(), (64, 64), &Device::Cpu)?
        .to_device(&device)?;
    let weights = QTensor::quantize_onto(
        &Tensor::from_vec(values.clone(), (64, 64), &Device::Cpu)?,
        GgmlDType::Q4_0,
        &device,
    )?;
    let matmul = QMatMul::from_qtensor(weights)?;
    let vector = x.narrow(0, 0, 1)?;

    let flat = |t: Tensor| t.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>();
    let mut total = 0.0;
    total += first_and_second("unary", || flat(x.exp()?))?;
    total += first_and_second("binary", || flat((&x * &y)?))?;
    total += first_and_second("reduce", || flat(x.sum_keepdim(D::Minus1)?))?;
    total += first_and_second("softmax", || {
        flat(candle_core::Tensor::exp(&x.broadcast_sub(&x.max_keepdim(D::Minus1)?)?)
            .and_then(|e| e.broadcast_div(&e.sum_keepdim(D::Minus1)?))?)
    })?;
    total += first_and_second("cast", || flat(x.to_dtype(DType::BF16)?))?;
    total += first_and_second("qmatmul", || flat(matmul.forward(&vector)?))?;
    println!("op {:<10} first {total:>9.2} ms", "total");
    println!("op {:<10} first {:>9.2} ms", "process", ms(started));
    Ok(())
}
