"""Macros of edgeloop's Bazel build: protoc code generation and the test suites."""

load("@rules_cc//cc:defs.bzl", "cc_test")

def protoc_cc(name, proto, imports = []):
    """Runs Debian's protoc on `proto` (a path such as "proto/arch.proto").

    Declares <stem>.pb.h and <stem>.pb.cc next to the proto in the output tree, so that
    sources include them as "proto/arch.pb.h", exactly as in the CMake build. `imports` are
    the protos it imports, given relative to the workspace root like `proto` itself.
    """
    stem = proto[:-len(".proto")]

    # The proto path is the directory that holds the module folders: the workspace root
    # here, external/<repo> when edgeloop is consumed from another workspace.
    native.genrule(
        name = name,
        srcs = [proto] + imports,
        outs = [stem + ".pb.h", stem + ".pb.cc"],
        cmd = ("protoc --cpp_out=$(RULEDIR) " +
               "--proto_path=$$(dirname $$(dirname $(location {p}))) $(location {p})").format(p = proto),
    )

def edgeloop_test(name, srcs, deps = [], data = [], uses_cli = False, **kwargs):
    """A GoogleTest suite run from its runfiles tree, like `edgeloop_test` in CMake.

    tests/test_util.h finds sources under EDGELOOP_SOURCE_DIR and built binaries under
    EDGELOOP_BINARY_DIR: both are the runfiles root (the test's working directory), which
    holds the search spaces, the Python reference model and every binary in `data`. With
    `uses_cli`, the edgeloop binary is a dependency and EDGELOOP_BIN names it.
    """
    env = {
        "EDGELOOP_SOURCE_DIR": ".",
        "EDGELOOP_BINARY_DIR": ".",
    }
    data = data + native.glob(["supernet/spaces/*.textproto"]) + [
        "tools/bench/swin_forward_compare.py",
    ]
    if uses_cli:
        data = data + [":edgeloop"]
        env["EDGELOOP_BIN"] = "./$(rootpath :edgeloop)"
    cc_test(
        name = name,
        srcs = srcs,
        data = data,
        env = env,
        deps = deps + [":test_util", "@system//:gtest_main"],
        **kwargs
    )
