{
  "targets": [
    {
      "target_name": "opml_cpu",
      "sources": ["runtime/native/cpu/matmul.cc", "runtime/native/cpu/conv.cc", "runtime/native/cpu/conv_integer.cc", "runtime/native/cpu/host.h"],
      "cflags_cc": ["-O2", "-ffp-contract=off", "-fno-fast-math", "-std=c++17"],
      "cflags_cc!": ["-ffast-math"]
    }
  ]
}
