// One interface over every Verilated npe top: ports by index, a clock tick, an optional FST trace.
// build.rs generates one subclass per top (models.cc in OUT_DIR) and the Rust port tables.
#pragma once
#include <cstdint>
#include <memory>
#include "rust/cxx.h"
#include "verilated.h"
#include "verilated_fst_c.h"

class Model {
protected:
  // Constructed before the derived class's Verilated model, which needs it.
  std::unique_ptr<VerilatedContext> ctx;
  std::unique_ptr<VerilatedFstC> tfp;
  void dump() {
    if (tfp) tfp->dump(ctx->time());
  }

public:
  Model();
  virtual ~Model();
  virtual void eval() = 0;
  virtual void tick() = 0;
  virtual void set(uint32_t port, uint64_t v) = 0;
  virtual void set_wide(uint32_t port, rust::Slice<const uint32_t> w) = 0;
  virtual uint64_t get(uint32_t port) const = 0;
  virtual void get_wide(uint32_t port, rust::Slice<uint32_t> w) const = 0;
  virtual void attach(VerilatedFstC* t) = 0;
  void open_trace(rust::Str path);
  void close_trace();
  uint64_t time() const { return ctx->time(); }
};

std::unique_ptr<Model> new_model(rust::Str name);
