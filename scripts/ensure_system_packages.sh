#!/usr/bin/env bash
# Debian packages the PDFs need: CJK fonts, and HarfBuzz's subsetter so WeasyPrint embeds
# only the glyphs it uses (fast, small files) instead of falling back to fontTools.
# With --browser also Debian's chromium, for the browser tests (Playwright drives
# /usr/bin/chromium; it never downloads a browser of its own): `make test` asks for it,
# `make run` does not.
set -euo pipefail
packages=(fonts-noto-cjk libharfbuzz-subset0)
if [ "${1:-}" = "--browser" ]; then
  packages+=(chromium)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "${SKIP_SYSTEM_PACKAGES:-0}" = "1" ]; then
  echo "警告：缺少系统软件包 ${missing[*]}，PDF 中文可能无法显示，缺少 chromium 时浏览器测试会跳过（SKIP_SYSTEM_PACKAGES=1，已跳过安装）。" >&2
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "缺少系统软件包：${missing[*]}。请以 root 身份运行：" >&2
  echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
  echo "（或设置 SKIP_SYSTEM_PACKAGES=1 跳过，PDF 将无法正确显示中文，浏览器测试会跳过。）" >&2
  exit 1
fi
echo "正在安装系统软件包：${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
