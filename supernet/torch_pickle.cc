#include "supernet/torch_pickle.h"

#include <caffe2/serialize/inline_container.h>
#include <caffe2/serialize/read_adapter_interface.h>

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace edgeloop::supernet {
namespace {

using Kind = PyValue::Kind;

// Bounds that no state dict comes near; they keep a hostile file from exhausting memory.
constexpr size_t kMaxValues = size_t{1} << 26;
constexpr size_t kMaxDims = 64;
constexpr int64_t kMaxBroadcastElements = int64_t{1} << 28;

std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

// Reads a little-endian field of `width` bytes at `at`; false when it lies outside.
bool Field(const std::string& bytes, size_t at, size_t width, uint64_t* out) {
  if (at > bytes.size() || width > bytes.size() - at) return false;
  *out = 0;
  for (size_t i = 0; i < width; ++i)
    *out |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[at + i])) << (8 * i);
  return true;
}

// The CRC-32 of every record of a zip archive, from its central directory, by name without
// the archive's top folder ("data/0"). LibTorch's zip reader is built without CRC checks,
// so flipped bits in a stored tensor would otherwise load silently. Empty when the
// directory cannot be parsed; the reader then reports the archive itself.
std::map<std::string, uint32_t> RecordCrcs(const std::string& bytes) {
  std::map<std::string, uint32_t> out;
  constexpr size_t kEndSize = 22, kMaxComment = 65535;
  size_t end = std::string::npos;
  for (size_t at = bytes.size() >= kEndSize ? bytes.size() - kEndSize : 0;
       bytes.size() >= kEndSize && bytes.size() - at <= kEndSize + kMaxComment; --at) {
    if (bytes.compare(at, 4, "PK\x05\x06") == 0) {
      end = at;
      break;
    }
    if (at == 0) break;
  }
  uint64_t offset = 0, size = 0;
  if (end == std::string::npos || !Field(bytes, end + 12, 4, &size) ||
      !Field(bytes, end + 16, 4, &offset))
    return out;
  if (offset == 0xffffffffu && end >= 20 && bytes.compare(end - 20, 4, "PK\x06\x07") == 0) {
    uint64_t end64 = 0;  // zip64: the real sizes are in the zip64 end record
    if (!Field(bytes, end - 20 + 8, 8, &end64) || end64 + 56 > bytes.size() ||
        bytes.compare(end64, 4, "PK\x06\x06") != 0 || !Field(bytes, end64 + 40, 8, &size) ||
        !Field(bytes, end64 + 48, 8, &offset))
      return out;
  }
  for (uint64_t at = offset; at + 46 <= offset + size && at + 46 <= bytes.size();) {
    uint64_t crc, name_len, extra_len, comment_len;
    if (bytes.compare(at, 4, "PK\x01\x02") != 0 || !Field(bytes, at + 16, 4, &crc) ||
        !Field(bytes, at + 28, 2, &name_len) || !Field(bytes, at + 30, 2, &extra_len) ||
        !Field(bytes, at + 32, 2, &comment_len) || at + 46 + name_len > bytes.size())
      break;
    const std::string name = bytes.substr(at + 46, name_len);
    const size_t slash = name.find('/');
    out[slash == std::string::npos ? name : name.substr(slash + 1)] = static_cast<uint32_t>(crc);
    at += 46 + name_len + extra_len + comment_len;
  }
  return out;
}

// Storage classes torch.save names in persistent ids, and their element types.
const std::map<std::string, at::ScalarType>& StorageTypes() {
  static const auto* types = new std::map<std::string, at::ScalarType>{
      {"torch.FloatStorage", at::kFloat},
      {"torch.DoubleStorage", at::kDouble},
      {"torch.HalfStorage", at::kHalf},
      {"torch.BFloat16Storage", at::kBFloat16},
      {"torch.LongStorage", at::kLong},
      {"torch.IntStorage", at::kInt},
      {"torch.ShortStorage", at::kShort},
      {"torch.CharStorage", at::kChar},
      {"torch.ByteStorage", at::kByte},
      {"torch.BoolStorage", at::kBool},
      {"torch.ComplexFloatStorage", at::kComplexFloat},
      {"torch.ComplexDoubleStorage", at::kComplexDouble},
  };
  return *types;
}

absl::Status CheckCrc(const std::map<std::string, uint32_t>& crcs, const std::string& record,
                      const void* data, size_t size) {
  auto it = crcs.find(record);
  if (it == crcs.end()) return absl::OkStatus();
  uLong crc = crc32(0L, Z_NULL, 0);
  for (size_t done = 0; done < size;) {  // zlib takes 32-bit lengths
    const uInt n = static_cast<uInt>(std::min<size_t>(size - done, 1u << 30));
    crc = crc32(crc, static_cast<const Bytef*>(data) + done, n);
    done += n;
  }
  if (static_cast<uint32_t>(crc) == it->second) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("record ", record, " fails its CRC-32 check: the file is corrupt"));
}

}  // namespace

std::string PyValue::Describe() const {
  switch (kind) {
    case Kind::kNone:
      return "None";
    case Kind::kBool:
      return "a bool";
    case Kind::kInt:
      return "an int";
    case Kind::kFloat:
      return "a float";
    case Kind::kString:
      return "a string";
    case Kind::kBytes:
      return "bytes";
    case Kind::kTuple:
      return "a tuple";
    case Kind::kList:
      return "a list";
    case Kind::kDict:
      return "a dict";
    case Kind::kTensor:
      return "a tensor";
    case Kind::kStorage:
      return "a storage";
    case Kind::kGlobal:
      return absl::StrCat("the Python name ", text);
    case Kind::kObject:
      return absl::StrCat("a Python object built by ", text);
  }
  return "an unknown value";
}

const PyValue* PyValue::Find(const std::string& key) const {
  if (kind != Kind::kDict) return nullptr;
  for (const auto& [k, v] : dict)
    if (k->kind == Kind::kString && k->text == key) return v;
  return nullptr;
}

// The pickle machine: a stack, marks and a memo over values owned by the output file.
class Unpickler {
 public:
  Unpickler(const std::string& pickle, caffe2::serialize::PyTorchStreamReader* archive,
            const std::map<std::string, uint32_t>* crcs, std::string origin)
      : in_(pickle), archive_(archive), crcs_(crcs), origin_(std::move(origin)) {}

  absl::StatusOr<PickledFile> Run() {
    while (true) {
      if (pos_ >= in_.size()) return Error("the pickle ends before its STOP opcode");
      const size_t at = pos_;
      const uint8_t op = static_cast<uint8_t>(in_[pos_++]);
      if (op == '.') break;
      if (absl::Status s = Step(op); !s.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(origin_, ": ", s.message(), " (pickle offset ", at, ")"));
      }
    }
    if (stack_.size() != 1 || !marks_.empty())
      return Error("the pickle does not leave exactly one object");
    out_.root_ = stack_.back();
    return std::move(out_);
  }

 private:
  absl::Status Fail(const std::string& what) const { return absl::InvalidArgumentError(what); }
  absl::Status Error(const std::string& what) const {
    return absl::InvalidArgumentError(absl::StrCat(origin_, ": ", what));
  }

  PyValue* New(Kind kind) {
    out_.values_->emplace_back();
    out_.values_->back().kind = kind;
    return &out_.values_->back();
  }

  // Reading operands. Each fails cleanly at the end of the input.
  absl::Status Bytes(size_t n, std::string* out) {
    if (n > in_.size() - pos_) return Fail("truncated pickle");
    out->assign(in_, pos_, n);
    pos_ += n;
    return absl::OkStatus();
  }
  absl::Status Unsigned(size_t width, uint64_t* out) {
    std::string raw;
    if (absl::Status s = Bytes(width, &raw); !s.ok()) return s;
    *out = 0;
    for (size_t i = 0; i < width; ++i)
      *out |= static_cast<uint64_t>(static_cast<uint8_t>(raw[i])) << (8 * i);
    return absl::OkStatus();
  }
  absl::Status Line(std::string* out) {
    const size_t end = in_.find('\n', pos_);
    if (end == std::string::npos) return Fail("truncated pickle");
    out->assign(in_, pos_, end - pos_);
    pos_ = end + 1;
    return absl::OkStatus();
  }

  absl::Status Push(PyValue* v) {
    if (out_.values_->size() > kMaxValues) return Fail("too many objects in the pickle");
    stack_.push_back(v);
    return absl::OkStatus();
  }
  absl::Status Pop(PyValue** v) {
    if (stack_.empty() || (!marks_.empty() && stack_.size() == marks_.back()))
      return Fail("stack underflow");
    *v = stack_.back();
    stack_.pop_back();
    return absl::OkStatus();
  }
  PyValue* Top() {
    return stack_.empty() || (!marks_.empty() && stack_.size() == marks_.back()) ? nullptr
                                                                                 : stack_.back();
  }
  // The values above the newest mark, removing them and the mark.
  absl::Status PopToMark(std::vector<PyValue*>* items) {
    if (marks_.empty()) return Fail("no MARK before a collection opcode");
    items->assign(stack_.begin() + static_cast<std::ptrdiff_t>(marks_.back()), stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return absl::OkStatus();
  }
  absl::Status PopTuple(size_t n) {
    PyValue* tuple = New(Kind::kTuple);
    tuple->items.resize(n);
    for (size_t i = n; i > 0; --i)
      if (absl::Status s = Pop(&tuple->items[i - 1]); !s.ok()) return s;
    return Push(tuple);
  }
  absl::Status Memoize(uint64_t index) {
    PyValue* top = Top();
    if (top == nullptr) return Fail("memo store with an empty stack");
    memo_[index] = top;
    return absl::OkStatus();
  }
  absl::Status Recall(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) return Fail(absl::StrCat("memo index ", index, " was never stored"));
    return Push(it->second);
  }
  absl::Status SetItems(PyValue* dict, const std::vector<PyValue*>& kv) {
    if (dict->kind == Kind::kObject) return absl::OkStatus();  // opaque: contents unneeded
    if (dict->kind != Kind::kDict) return Fail(absl::StrCat("SETITEM(S) on ", dict->Describe()));
    if (kv.size() % 2 != 0) return Fail("SETITEMS with an odd number of values");
    for (size_t i = 0; i < kv.size(); i += 2) {
      bool replaced = false;
      if (kv[i]->kind == Kind::kString) {
        for (auto& entry : dict->dict) {
          if (entry.first->kind == Kind::kString && entry.first->text == kv[i]->text) {
            entry.second = kv[i + 1];
            replaced = true;
          }
        }
      }
      if (!replaced) dict->dict.emplace_back(kv[i], kv[i + 1]);
    }
    return absl::OkStatus();
  }
  absl::Status Append(PyValue* list, const std::vector<PyValue*>& values) {
    if (list->kind == Kind::kObject) return absl::OkStatus();
    if (list->kind != Kind::kList) return Fail(absl::StrCat("APPEND(S) on ", list->Describe()));
    list->items.insert(list->items.end(), values.begin(), values.end());
    return absl::OkStatus();
  }
  absl::Status Global(const std::string& module, const std::string& name) {
    PyValue* g = New(Kind::kGlobal);
    g->text = absl::StrCat(module, ".", name);
    return Push(g);
  }

  // Step runs one opcode; each group below returns nullopt for an opcode not its own.
  absl::Status Step(uint8_t op);
  std::optional<absl::Status> StackOp(uint8_t op);
  std::optional<absl::Status> ScalarOp(uint8_t op);
  std::optional<absl::Status> CollectionOp(uint8_t op);
  std::optional<absl::Status> ObjectOp(uint8_t op);
  absl::Status Reduce(const PyValue& callable, const PyValue& args);
  absl::Status RebuildTensor(const PyValue& args);
  absl::Status PersistentLoad(const PyValue& pid);

  const std::string& in_;
  caffe2::serialize::PyTorchStreamReader* archive_;
  const std::map<std::string, uint32_t>* crcs_;
  const std::string origin_;
  size_t pos_ = 0;
  PickledFile out_;
  std::vector<PyValue*> stack_;
  std::vector<size_t> marks_;
  std::map<uint64_t, PyValue*> memo_;
  std::map<std::string, PyValue*> storages_;  // by archive key: tensors may share one
};

absl::Status Unpickler::Step(uint8_t op) {
  for (auto group : {&Unpickler::StackOp, &Unpickler::ScalarOp, &Unpickler::CollectionOp,
                     &Unpickler::ObjectOp}) {
    if (std::optional<absl::Status> s = (this->*group)(op)) return *std::move(s);
  }
  return Fail(absl::StrFormat(
      "unsupported pickle opcode 0x%02x%s (this reader knows the subset torch.save writes)", op,
      op >= 0x20 && op < 0x7f ? absl::StrFormat(" '%c'", op) : ""));
}

// Framing, the stack and the memo.
std::optional<absl::Status> Unpickler::StackOp(uint8_t op) {
  absl::Status s;
  uint64_t n = 0;
  PyValue* a = nullptr;
  std::vector<PyValue*> items;
  switch (op) {
    case 0x80:  // PROTO
      if (!(s = Unsigned(1, &n)).ok()) return s;
      if (n > 5) return Fail(absl::StrCat("pickle protocol ", n, " is not supported"));
      return absl::OkStatus();
    case 0x95:  // FRAME: a length hint only
      return Unsigned(8, &n);
    case '(':  // MARK
      marks_.push_back(stack_.size());
      return absl::OkStatus();
    case '0':  // POP
      return Pop(&a);
    case '1':  // POP_MARK
      return PopToMark(&items);
    case '2':  // DUP
      if ((a = Top()) == nullptr) return Fail("stack underflow");
      return Push(a);
    case 'q':
    case 'r':  // BINPUT, LONG_BINPUT
      if (!(s = Unsigned(op == 'q' ? 1 : 4, &n)).ok()) return s;
      return Memoize(n);
    case 0x94:  // MEMOIZE
      return Memoize(memo_.size());
    case 'h':
    case 'j':  // BINGET, LONG_BINGET
      if (!(s = Unsigned(op == 'h' ? 1 : 4, &n)).ok()) return s;
      return Recall(n);
    default:
      return std::nullopt;
  }
}

// None, booleans, numbers, strings and bytes.
std::optional<absl::Status> Unpickler::ScalarOp(uint8_t op) {
  absl::Status s;
  uint64_t n = 0;
  std::string text;
  PyValue* a = nullptr;
  switch (op) {
    case 'N':
      return Push(New(Kind::kNone));
    case 0x88:
    case 0x89:  // NEWTRUE, NEWFALSE
      a = New(Kind::kBool);
      a->boolean = op == 0x88;
      return Push(a);
    case 'J':  // BININT: signed 4 bytes
    case 'K':  // BININT1
    case 'M':  // BININT2
      if (!(s = Unsigned(op == 'J' ? 4 : op == 'K' ? 1 : 2, &n)).ok()) return s;
      a = New(Kind::kInt);
      a->integer =
          op == 'J' ? static_cast<int32_t>(static_cast<uint32_t>(n)) : static_cast<int64_t>(n);
      return Push(a);
    case 0x8a:  // LONG1: little-endian two's complement of n bytes
      if (!(s = Unsigned(1, &n)).ok()) return s;
      if (n > 8) return Fail("integer wider than 64 bits");
      if (!(s = Bytes(n, &text)).ok()) return s;
      a = New(Kind::kInt);
      {
        uint64_t v = 0;
        for (size_t i = 0; i < n; ++i)
          v |= static_cast<uint64_t>(static_cast<uint8_t>(text[i])) << (8 * i);
        if (n > 0 && n < 8 && (static_cast<uint8_t>(text[n - 1]) & 0x80))
          v |= ~uint64_t{0} << (8 * n);
        a->integer = static_cast<int64_t>(v);
      }
      return Push(a);
    case 'G':  // BINFLOAT: big-endian double
      if (!(s = Bytes(8, &text)).ok()) return s;
      a = New(Kind::kFloat);
      {
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | static_cast<uint8_t>(text[i]);
        std::memcpy(&a->real, &bits, sizeof bits);
      }
      return Push(a);
    case 'X':   // BINUNICODE
    case 0x8c:  // SHORT_BINUNICODE
    case 0x8d:  // BINUNICODE8
    case 'U':   // SHORT_BINSTRING
    case 'T':   // BINSTRING
    case 'C':   // SHORT_BINBYTES
    case 'B':   // BINBYTES
      if (!(s = Unsigned(op == 0x8d ? 8 : (op == 'X' || op == 'T' || op == 'B') ? 4 : 1, &n)).ok())
        return s;
      a = New(op == 'C' || op == 'B' ? Kind::kBytes : Kind::kString);
      if (!(s = Bytes(n, &a->text)).ok()) return s;
      return Push(a);
    default:
      return std::nullopt;
  }
}

// Tuples, lists and dicts.
std::optional<absl::Status> Unpickler::CollectionOp(uint8_t op) {
  absl::Status s;
  PyValue* a = nullptr;
  PyValue* b = nullptr;
  std::vector<PyValue*> items;
  switch (op) {
    case ')':
      return Push(New(Kind::kTuple));
    case 0x85:
    case 0x86:
    case 0x87:  // TUPLE1..3
      return PopTuple(op - 0x84);
    case 't':  // TUPLE
      if (!(s = PopToMark(&items)).ok()) return s;
      a = New(Kind::kTuple);
      a->items = std::move(items);
      return Push(a);
    case ']':
      return Push(New(Kind::kList));
    case 'l':  // LIST
      if (!(s = PopToMark(&items)).ok()) return s;
      a = New(Kind::kList);
      a->items = std::move(items);
      return Push(a);
    case '}':
      return Push(New(Kind::kDict));
    case 'd':  // DICT
      if (!(s = PopToMark(&items)).ok()) return s;
      a = New(Kind::kDict);
      if (!(s = SetItems(a, items)).ok()) return s;
      return Push(a);
    case 'a':  // APPEND
      if (!(s = Pop(&b)).ok()) return s;
      if ((a = Top()) == nullptr) return Fail("APPEND without a list");
      return Append(a, {b});
    case 'e':  // APPENDS
      if (!(s = PopToMark(&items)).ok()) return s;
      if ((a = Top()) == nullptr) return Fail("APPENDS without a list");
      return Append(a, items);
    case 's':  // SETITEM
      if (!(s = Pop(&b)).ok() || !(s = Pop(&a)).ok()) return s;
      if (Top() == nullptr) return Fail("SETITEM without a dict");
      return SetItems(Top(), {a, b});
    case 'u':  // SETITEMS
      if (!(s = PopToMark(&items)).ok()) return s;
      if (Top() == nullptr) return Fail("SETITEMS without a dict");
      return SetItems(Top(), items);
    default:
      return std::nullopt;
  }
}

// Globals, calls, objects and persistent ids (the tensors' storages).
std::optional<absl::Status> Unpickler::ObjectOp(uint8_t op) {
  absl::Status s;
  std::string text;
  PyValue* a = nullptr;
  PyValue* b = nullptr;
  switch (op) {
    case 'c': {  // GLOBAL "module\nname\n"
      std::string module;
      if (!(s = Line(&module)).ok() || !(s = Line(&text)).ok()) return s;
      return Global(module, text);
    }
    case 0x93:  // STACK_GLOBAL
      if (!(s = Pop(&b)).ok() || !(s = Pop(&a)).ok()) return s;
      if (a->kind != Kind::kString || b->kind != Kind::kString)
        return Fail("STACK_GLOBAL needs two strings");
      return Global(a->text, b->text);
    case 'R':  // REDUCE
      if (!(s = Pop(&b)).ok() || !(s = Pop(&a)).ok()) return s;
      return Reduce(*a, *b);
    case 0x81:  // NEWOBJ: cls.__new__(cls, *args) of a class we do not know: opaque
      if (!(s = Pop(&b)).ok() || !(s = Pop(&a)).ok()) return s;
      if (a->kind != Kind::kGlobal) return Fail(absl::StrCat("NEWOBJ on ", a->Describe()));
      b = New(Kind::kObject);
      b->text = a->text;
      return Push(b);
    case 'b':  // BUILD: sets an object's state; dicts (OrderedDict._metadata) and opaque
               // objects keep none we need
      if (!(s = Pop(&b)).ok()) return s;
      if ((a = Top()) == nullptr) return Fail("BUILD without an object");
      if (a->kind != Kind::kDict && a->kind != Kind::kObject)
        return Fail(absl::StrCat("BUILD on ", a->Describe()));
      return absl::OkStatus();
    case 'Q':  // BINPERSID
      if (!(s = Pop(&a)).ok()) return s;
      return PersistentLoad(*a);
    default:
      return std::nullopt;
  }
}

absl::Status Unpickler::Reduce(const PyValue& callable, const PyValue& args) {
  if (args.kind != Kind::kTuple) return Fail("REDUCE arguments are not a tuple");
  if (callable.kind == Kind::kObject) {  // calling an opaque object: still opaque
    PyValue* v = New(Kind::kObject);
    v->text = callable.text;
    return Push(v);
  }
  if (callable.kind != Kind::kGlobal) return Fail(absl::StrCat("REDUCE on ", callable.Describe()));
  const std::string& name = callable.text;
  if (name == "collections.OrderedDict") {
    if (!args.items.empty()) return Fail("collections.OrderedDict called with arguments");
    return Push(New(Kind::kDict));
  }
  if (name == "torch._utils._rebuild_tensor_v2") return RebuildTensor(args);
  // LibTorch's pickle_save (WriteStateDictFile) wraps typed containers in these.
  if (name == "torch.jit._pickle.restore_type_tag" || name == "torch.jit._pickle.build_intlist" ||
      name == "torch.jit._pickle.build_doublelist" || name == "torch.jit._pickle.build_boollist" ||
      name == "torch.jit._pickle.build_tensorlist") {
    if (args.items.empty()) return Fail(absl::StrCat(name, " without a value"));
    return Push(args.items[0]);
  }
  if (name == "torch._utils._rebuild_parameter" ||
      name == "torch._utils._rebuild_parameter_with_state") {
    if (args.items.empty() || args.items[0]->kind != Kind::kTensor)
      return Fail(absl::StrCat(name, " without a tensor"));
    return Push(args.items[0]);
  }
  PyValue* v = New(Kind::kObject);  // e.g. argparse.Namespace: kept opaque
  v->text = name;
  return Push(v);
}

absl::Status Unpickler::PersistentLoad(const PyValue& pid) {
  // ('storage', torch.<Type>Storage, key, location, numel)
  const auto& f = pid.items;
  if (pid.kind != Kind::kTuple || f.size() != 5 || f[0]->kind != Kind::kString ||
      f[0]->text != "storage" || f[1]->kind != Kind::kGlobal || f[2]->kind != Kind::kString ||
      f[4]->kind != Kind::kInt) {
    return Fail("a persistent id that is not ('storage', type, key, location, numel)");
  }
  auto type = StorageTypes().find(f[1]->text);
  if (type == StorageTypes().end())
    return Fail(absl::StrCat("unsupported storage type ", f[1]->text));
  const std::string& key = f[2]->text;
  auto cached = storages_.find(key);
  if (cached != storages_.end()) {
    if (cached->second->tensor.scalar_type() != type->second)
      return Fail(absl::StrCat("storage '", key, "' is read with two element types"));
    return Push(cached->second);
  }
  const int64_t numel = f[4]->integer;
  const size_t element = c10::elementSize(type->second);
  if (numel < 0 || static_cast<uint64_t>(numel) > (uint64_t{1} << 40) / element)
    return Fail(absl::StrCat("storage '", key, "' claims ", numel, " elements"));
  const std::string record = "data/" + key;
  if (!archive_->hasRecord(record))
    return Fail(absl::StrCat("the archive lacks the storage record ", record));
  auto [data, size] = archive_->getRecord(record);
  if (absl::Status s = CheckCrc(*crcs_, record, data.get(), size); !s.ok()) return s;
  if (size != static_cast<size_t>(numel) * element) {
    return Fail(absl::StrCat("storage record ", record, " holds ", size, " bytes, expected ", numel,
                             " x ", element));
  }
  PyValue* storage = New(Kind::kStorage);
  storage->tensor = torch::empty({numel}, torch::TensorOptions().dtype(type->second));
  if (size > 0) std::memcpy(storage->tensor.data_ptr(), data.get(), size);
  storages_[key] = storage;
  return Push(storage);
}

absl::Status Unpickler::RebuildTensor(const PyValue& args) {
  // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  const auto& f = args.items;
  const auto ints = [](const PyValue* t, std::vector<int64_t>* out) {
    if (t->kind != Kind::kTuple || t->items.size() > kMaxDims) return false;
    for (const PyValue* v : t->items) {
      if (v->kind != Kind::kInt || v->integer < 0) return false;
      out->push_back(v->integer);
    }
    return true;
  };
  std::vector<int64_t> sizes, strides;
  if (f.size() < 4 || f[0]->kind != Kind::kStorage || f[1]->kind != Kind::kInt ||
      f[1]->integer < 0 || !ints(f[2], &sizes) || !ints(f[3], &strides) ||
      sizes.size() != strides.size()) {
    return Fail("a malformed tensor record (_rebuild_tensor_v2 arguments)");
  }
  // The furthest element the view reaches must lie inside the storage.
  const int64_t available = f[0]->tensor.numel();
  bool empty = false, overflow = false;
  int64_t last = f[1]->integer;
  for (size_t i = 0; i < sizes.size(); ++i) {
    int64_t span = 0;
    if (sizes[i] == 0) {
      empty = true;
    } else if (__builtin_mul_overflow(sizes[i] - 1, strides[i], &span) ||
               __builtin_add_overflow(last, span, &last)) {
      overflow = true;
    }
  }
  // Broadcast views (stride 0) may hold more elements than their storage; bound the copy.
  int64_t numel = 1;
  for (int64_t size : sizes) overflow |= __builtin_mul_overflow(numel, size, &numel);
  if (overflow || numel > std::max<int64_t>(available, kMaxBroadcastElements)) {
    return Fail(absl::StrCat("a tensor of size [", absl::StrJoin(sizes, ","),
                             "] is too large for its storage of ", available, " elements"));
  }
  if (!empty && last >= available) {
    return Fail(absl::StrCat("a tensor reaches outside its storage of ", available,
                             " elements (size [", absl::StrJoin(sizes, ","), "], stride [",
                             absl::StrJoin(strides, ","), "], offset ", f[1]->integer, ")"));
  }
  PyValue* t = New(Kind::kTensor);
  t->tensor = empty ? torch::empty(sizes, f[0]->tensor.options())
                    : f[0]->tensor.as_strided(sizes, strides, f[1]->integer)
                          .clone(at::MemoryFormat::Contiguous);
  return Push(t);
}

namespace {

// The archive's bytes for caffe2's zip reader. caffe2's MemoryReadAdapter copies whatever
// range it is asked for, and miniz asks for ranges computed from the archive's own offsets,
// so a corrupt archive made it read outside the buffer (found by state_dict_fuzz). This one
// copies only what lies inside and returns how much, which miniz checks.
class BoundedReadAdapter : public caffe2::serialize::ReadAdapterInterface {
 public:
  explicit BoundedReadAdapter(const std::string& bytes) : bytes_(bytes) {}
  size_t size() const override { return bytes_.size(); }
  size_t read(uint64_t pos, void* buf, size_t n, const char* /*what*/) const override {
    if (pos >= bytes_.size()) return 0;
    n = static_cast<size_t>(std::min<uint64_t>(n, bytes_.size() - pos));
    std::memcpy(buf, bytes_.data() + pos, n);
    return n;
  }

 private:
  const std::string& bytes_;
};

}  // namespace

absl::StatusOr<PickledFile> ReadTorchSave(const std::string& bytes, const std::string& origin) {
  if (bytes.rfind("PK\x03\x04", 0) != 0) {
    if (bytes.size() >= 2 && static_cast<uint8_t>(bytes[0]) == 0x80) {
      return absl::InvalidArgumentError(
          absl::StrCat(origin,
                       ": a bare pickle (the legacy torch.save format of PyTorch < 1.6), not a zip "
                       "archive; re-save it with a current torch.save"));
    }
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": not a torch.save file (that is a zip archive)"));
  }
  try {
    caffe2::serialize::PyTorchStreamReader archive(std::make_shared<BoundedReadAdapter>(bytes));
    if (archive.hasRecord("byteorder")) {
      auto [data, size] = archive.getRecord("byteorder");
      const std::string order(static_cast<const char*>(data.get()), size);
      if (order != "little") {
        return absl::InvalidArgumentError(
            absl::StrCat(origin, ": byte order '", order, "' is not supported (only little)"));
      }
    }
    if (!archive.hasRecord("data.pkl"))
      return absl::InvalidArgumentError(absl::StrCat(origin, ": the archive has no data.pkl"));
    auto [data, size] = archive.getRecord("data.pkl");
    const std::map<std::string, uint32_t> crcs = RecordCrcs(bytes);
    if (absl::Status s = CheckCrc(crcs, "data.pkl", data.get(), size); !s.ok())
      return absl::InvalidArgumentError(absl::StrCat(origin, ": ", s.message()));
    const std::string pickle(static_cast<const char*>(data.get()), size);
    return Unpickler(pickle, &archive, &crcs, origin).Run();
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": truncated or corrupt PyTorch archive (", FirstLine(e.what()), ")"));
  }
}

}  // namespace edgeloop::supernet
