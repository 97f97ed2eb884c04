# Fills tools/pipeline/embedded_spaces.h.in like CMake's configure_file(@ONLY) does there:
# @EDGELOOP_SPACE_TINY@ and @EDGELOOP_SPACE_DEFAULT@ become the text of the two space files.
# Usage: awk -v tiny=FILE -v default_space=FILE -f embed_spaces.awk TEMPLATE > HEADER
function slurp(path,    text, line) {
  text = ""
  while ((getline line < path) > 0) text = text line "\n"
  close(path)
  return text
}
function fill(line, key, value,    at) {
  at = index(line, key)
  if (at == 0) return line
  return substr(line, 1, at - 1) value substr(line, at + length(key))
}
BEGIN {
  tiny_text = slurp(tiny)
  default_text = slurp(default_space)
}
{
  line = fill($0, "@EDGELOOP_SPACE_TINY@", tiny_text)
  print fill(line, "@EDGELOOP_SPACE_DEFAULT@", default_text)
}
