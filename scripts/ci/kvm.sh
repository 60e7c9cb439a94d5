#!/usr/bin/env bash
# Lets the runner's user open /dev/kvm where the runner has it (GitHub's
# larger Linux runners do); elsewhere bpfmatrix runs qemu under TCG.
set -euo pipefail
if [ -e /dev/kvm ]; then
  echo 'KERNEL=="kvm", GROUP="kvm", MODE="0666", OPTIONS+="static_node=kvm"' | sudo tee /etc/udev/rules.d/99-bpfmatrix-kvm.rules >/dev/null
  sudo udevadm control --reload-rules
  sudo udevadm trigger --name-match=kvm
  echo "KVM: /dev/kvm is usable"
else
  echo "KVM: no /dev/kvm; qemu will run under TCG"
fi
