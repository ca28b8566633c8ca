//! Row-major `f32` matrices and the host's plain-Rust `x · Wᵀ + b`, the f32 reference's linear
//! layer.

/// A row-major `rows × cols` matrix of `f32`.
#[derive(Clone, Debug, PartialEq)]
pub struct Mat {
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// `rows × cols` values, row-major.
    pub data: Vec<f32>,
}

impl Mat {
    /// A `rows × cols` matrix of zeros.
    pub fn zeros(rows: usize, cols: usize) -> Mat {
        Mat {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }

    /// Row `r`.
    pub fn row(&self, r: usize) -> &[f32] {
        &self.data[r * self.cols..(r + 1) * self.cols]
    }

    /// Row `r`, mutable.
    pub fn row_mut(&mut self, r: usize) -> &mut [f32] {
        &mut self.data[r * self.cols..(r + 1) * self.cols]
    }

    /// The values as `f64` (what the quantizers take).
    pub fn to_f64(&self) -> Vec<f64> {
        self.data.iter().map(|&x| f64::from(x)).collect()
    }
}

/// `Σ_i a[i]·b[i]`, products and sum in `f64`, rounded once to `f32`.
///
/// Summing in `f64` makes the reference's dot products correctly rounded for every length this
/// model has (K ≤ 1536: the `f64` sum's error is far below an `f32` ulp), so the reference does
/// not depend on a summation order; PyTorch's `f32` GEMM differs from it by its own rounding.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    // Four independent partial sums let the compiler vectorize without reordering one sum.
    let mut acc = [0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..4 {
            acc[i] += f64::from(x[i]) * f64::from(y[i]);
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(&x, &y)| f64::from(x) * f64::from(y)).sum();
    (acc[0] + acc[1] + acc[2] + acc[3] + tail) as f32
}

/// `x · Wᵀ + b` for `x` `[T, K]`, `w` `[N, K]` (PyTorch's `nn.Linear` layout), `b` `[N]`.
pub fn linear(x: &Mat, w: &Mat, b: &[f32]) -> Mat {
    assert_eq!(x.cols, w.cols, "linear: K of x and W differ");
    assert_eq!(w.rows, b.len(), "linear: N of W and b differ");
    let mut out = Mat::zeros(x.rows, w.rows);
    for t in 0..x.rows {
        let xr = x.row(t);
        let o = out.row_mut(t);
        for (n, on) in o.iter_mut().enumerate() {
            *on = dot(xr, w.row(n)) + b[n];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_by_hand() {
        let x = Mat {
            rows: 2,
            cols: 3,
            data: vec![1.0, 2.0, 3.0, -1.0, 0.5, 0.0],
        };
        let w = Mat {
            rows: 2,
            cols: 3,
            data: vec![1.0, 0.0, -1.0, 2.0, 2.0, 2.0],
        };
        let y = linear(&x, &w, &[0.5, -1.0]);
        assert_eq!(y.data, vec![1.0 - 3.0 + 0.5, 12.0 - 1.0, -1.0 + 0.5, -2.0 + 1.0 - 1.0]);
    }

    #[test]
    fn dot_sums_in_f64() {
        // 1e8 + 1 − 1e8 in f32 order would lose the 1; the f64 sum keeps it.
        let a = [1e8f32, 1.0, -1e8, 0.0, 0.0];
        let b = [1.0f32; 5];
        assert_eq!(dot(&a, &b), 1.0);
    }
}
