// Prototypical loss, step 3: softmax cross-entropy over the N*Q queries (label of query q is
// q / Q, class-major), accuracy, and the logit gradient:
//   loss = (1 / NQ) sum_q (logsumexp(logits[q, :]) - logits[q, label]),
//   acc = (1 / NQ) #{q : first argmax_c logits[q, c] = label},
//   dlogits[q, c] = (softmax(logits[q, :])[c] - [c = label]) / NQ.
// Mapping: a single invocation (N*Q*N is tiny). result = (loss, acc).

struct Params {
  n_way: u32,
  n_query: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>; // [N*Q, N]
@group(0) @binding(2) var<storage, read_write> dlogits: array<f32>; // [N*Q, N]
@group(0) @binding(3) var<storage, read_write> result: array<f32>; // [2] (loss, acc)

@compute @workgroup_size(1)
fn main() {
  let nq = p.n_way * p.n_query;
  var loss = 0.0;
  var correct = 0u;
  for (var q = 0u; q < nq; q++) {
    let label = q / p.n_query;
    let row = q * p.n_way;
    var best = 0u;
    for (var c = 1u; c < p.n_way; c++) {
      if (logits[row + c] > logits[row + best]) { best = c; }
    }
    let mx = logits[row + best];
    var z = 0.0;
    for (var c = 0u; c < p.n_way; c++) { z += exp(logits[row + c] - mx); }
    loss += log(z) + mx - logits[row + label];
    correct += select(0u, 1u, best == label);
    for (var c = 0u; c < p.n_way; c++) {
      let onehot = select(0.0, 1.0, c == label);
      dlogits[row + c] = (exp(logits[row + c] - mx) / z - onehot) / f32(nq);
    }
  }
  result[0] = loss / f32(nq);
  result[1] = f32(correct) / f32(nq);
}
