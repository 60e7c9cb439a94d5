#!/usr/bin/env bash
# Lets the runner's user open /dev/kvm where the runner has it (GitHub's
# larger Linux runners do); elsewhere bpfmatrix runs qemu under TCG. Root
# opens /dev/kvm as it is: the rule is for a runner's unprivileged user,
# and a machine where the step runs as root keeps its udev rules untouched.
set -euo pipefail
if [ ! -e /dev/kvm ]; then
  echo "KVM: no /dev/kvm; qemu will run under TCG"
elif [ "$(id -u)" = 0 ]; then
  echo "KVM: running as root, which opens /dev/kvm as it is"
else
  echo 'KERNEL=="kvm", GROUP="kvm", MODE="0666", OPTIONS+="static_node=kvm"' | sudo tee /etc/udev/rules.d/99-bpfmatrix-kvm.rules >/dev/null
  sudo udevadm control --reload-rules
  sudo udevadm trigger --name-match=kvm
  echo "KVM: /dev/kvm is usable"
fi
