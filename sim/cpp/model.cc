#include "model.h"
#include <stdexcept>
#include <string>

Model::Model() : ctx(new VerilatedContext) {
  // Tracing must be allowed before any trace is attached; it costs nothing until one is.
  ctx->traceEverOn(true);
}

Model::~Model() = default;

void Model::open_trace(rust::Str path) {
  close_trace();
  std::string p(path);
  tfp.reset(new VerilatedFstC);
  attach(tfp.get());
  tfp->open(p.c_str());
  if (!tfp->isOpen()) {
    tfp.reset();
    throw std::runtime_error("cannot open FST trace file " + p);
  }
}

void Model::close_trace() {
  if (tfp) {
    tfp->close();
    tfp.reset();
  }
}
