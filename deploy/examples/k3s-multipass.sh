#!/usr/bin/env bash
# A one-node K3s cluster with encrypted swap and NodeSwap (LimitedSwap), in a Multipass VM:
# the node for the kube-soomkiller stress test (deploy/README.md).
#
# Usage:
#   deploy/examples/k3s-multipass.sh up           launch the VM, set up swap and k3s, write a kubeconfig
#   deploy/examples/k3s-multipass.sh kubeconfig   write the kubeconfig again (e.g. after a VM restart)
#   deploy/examples/k3s-multipass.sh down         delete the VM
#   (guest-setup is what `up` runs inside the VM; not meant to be run by hand.)
#
# Settings, from the environment (defaults in brackets):
#   VM_NAME [soomkiller]  VM_CPUS [2]  VM_MEMORY [4G]  VM_DISK [20G]  VM_IMAGE [24.04]
#   SWAP_SIZE [4G]        size of the encrypted swap
#   K3S_CHANNEL [stable]  K3S_VERSION [latest of the channel], e.g. v1.33.5+k3s1
#   KUBECONFIG_OUT [./kubeconfig-soomkiller]
#
# Needs on the host: multipass. Inside the VM it installs cryptsetup and k3s (get.k3s.io).
set -euo pipefail

VM_NAME=${VM_NAME:-soomkiller}
VM_CPUS=${VM_CPUS:-2}
VM_MEMORY=${VM_MEMORY:-4G}
VM_DISK=${VM_DISK:-20G}
VM_IMAGE=${VM_IMAGE:-24.04}
SWAP_SIZE=${SWAP_SIZE:-4G}
K3S_CHANNEL=${K3S_CHANNEL:-stable}
K3S_VERSION=${K3S_VERSION:-}
KUBECONFIG_OUT=${KUBECONFIG_OUT:-./kubeconfig-soomkiller}

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# --- on the host ---------------------------------------------------------------------------

up() {
  command -v multipass >/dev/null || die "multipass not found: install it from https://multipass.run"
  if multipass info "$VM_NAME" >/dev/null 2>&1; then
    log "VM $VM_NAME exists; re-running the node setup in it"
  else
    log "Launching VM $VM_NAME ($VM_CPUS CPUs, $VM_MEMORY memory, $VM_DISK disk, Ubuntu $VM_IMAGE)"
    multipass launch --name "$VM_NAME" --cpus "$VM_CPUS" --memory "$VM_MEMORY" \
      --disk "$VM_DISK" "$VM_IMAGE"
  fi
  # Run this same script inside the VM, so that both halves are one file.
  multipass transfer "${BASH_SOURCE[0]}" "$VM_NAME:/tmp/k3s-multipass.sh"
  multipass exec "$VM_NAME" -- sudo env SWAP_SIZE="$SWAP_SIZE" K3S_CHANNEL="$K3S_CHANNEL" \
    K3S_VERSION="$K3S_VERSION" bash /tmp/k3s-multipass.sh guest-setup
  kubeconfig
  log "Done. Next: export KUBECONFIG=$KUBECONFIG_OUT; kubectl get nodes -L swap"
}

kubeconfig() {
  local ip
  ip=$(multipass exec "$VM_NAME" -- hostname -I | awk '{print $1}')
  [ -n "$ip" ] || die "cannot find the IP address of VM $VM_NAME"
  multipass exec "$VM_NAME" -- sudo cat /etc/rancher/k3s/k3s.yaml |
    sed "s#https://127.0.0.1:6443#https://$ip:6443#" >"$KUBECONFIG_OUT"
  chmod 600 "$KUBECONFIG_OUT"
  log "Wrote $KUBECONFIG_OUT (API server https://$ip:6443)"
}

down() {
  log "Deleting VM $VM_NAME"
  multipass delete --purge "$VM_NAME"
}

# --- inside the VM, as root ----------------------------------------------------------------

guest_setup() {
  [ "$(id -u)" = 0 ] || die "guest-setup runs as root inside the VM"
  [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] ||
    die "NodeSwap needs cgroup v2; /sys/fs/cgroup is not cgroup2"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q cryptsetup curl

  setup_encrypted_swap
  install_k3s
}

# Encrypted swap: dm-crypt in plain mode over a file, keyed from /dev/urandom at every boot.
# Nothing to store and nothing to leak: what was swapped out is unreadable after a reboot.
# crypttab's "swap" option runs mkswap on the mapped device each time it is opened.
# (A file on the root filesystem, because Multipass cannot attach a second disk; on a real
# node give swap its own partition.)
setup_encrypted_swap() {
  local img=/var/lib/cryptswap.img
  if ! grep -q '^cryptswap ' /etc/crypttab 2>/dev/null; then
    log "Creating $SWAP_SIZE of encrypted swap on $img"
    swapoff -a
    sed -i -E '/^[^#].*\sswap\s/s/^/# disabled by k3s-multipass.sh: /' /etc/fstab
    fallocate -l "$SWAP_SIZE" "$img"
    chmod 600 "$img"
    echo "cryptswap $img /dev/urandom swap,plain,cipher=aes-xts-plain64,size=512" >>/etc/crypttab
    echo "/dev/mapper/cryptswap none swap defaults 0 0" >>/etc/fstab
    systemctl daemon-reload
  fi
  systemctl start systemd-cryptsetup@cryptswap.service
  swapon -a
  swapon --show
  [ -n "$(swapon --noheadings --show=NAME)" ] || die "no swap is active"
}

# K3s with swap allowed (--fail-swap-on=false) and LimitedSwap: the kubelet gives swap to
# Burstable pods only, in proportion to their memory request.
install_k3s() {
  mkdir -p /etc/rancher/k3s
  cat >/etc/rancher/k3s/kubelet-swap.yaml <<'KUBELET'
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failSwapOn: false
memorySwap:
  swapBehavior: LimitedSwap
KUBELET
  cat >/etc/rancher/k3s/config.yaml <<'K3S'
kubelet-arg:
  - fail-swap-on=false
  - config=/etc/rancher/k3s/kubelet-swap.yaml
K3S

  log "Installing k3s (channel $K3S_CHANNEL${K3S_VERSION:+, version $K3S_VERSION})"
  curl -sfL https://get.k3s.io |
    INSTALL_K3S_CHANNEL="$K3S_CHANNEL" INSTALL_K3S_VERSION="$K3S_VERSION" \
      INSTALL_K3S_SKIP_START=true sh -

  # NodeSwap: beta but off by default in 1.28 and 1.29, on by default from 1.30, GA in 1.34
  # (where the gate is locked, and later removed: setting it then stops the kubelet).
  local minor
  minor=$(k3s --version | sed -n -E 's/^k3s version v1\.([0-9]+)\..*/\1/p')
  [ -n "$minor" ] || die "cannot read the k3s version"
  [ "$minor" -ge 28 ] || die "k3s v1.$minor is too old: LimitedSwap needs Kubernetes >= 1.28"
  if [ "$minor" -lt 30 ] && ! grep -q NodeSwap /etc/rancher/k3s/kubelet-swap.yaml; then
    log "Kubernetes 1.$minor: turning on the NodeSwap feature gate"
    printf 'featureGates:\n  NodeSwap: true\n' >>/etc/rancher/k3s/kubelet-swap.yaml
  fi

  systemctl enable --now k3s
  log "Waiting for the node to become Ready"
  local node
  node=$(hostname)
  for _ in $(seq 60); do
    k3s kubectl get node "$node" >/dev/null 2>&1 && break
    sleep 2
  done
  k3s kubectl wait --for=condition=Ready "node/$node" --timeout=180s
  k3s kubectl label node "$node" swap=enabled --overwrite
  log "kubelet swap behaviour: $(k3s kubectl get --raw "/api/v1/nodes/$node/proxy/configz" |
    grep -o '"swapBehavior":"[^"]*"' || echo 'unknown (check /etc/rancher/k3s/kubelet-swap.yaml)')"
}

case "${1:-up}" in
  up) up ;;
  kubeconfig) kubeconfig ;;
  down) down ;;
  guest-setup) guest_setup ;;
  *) die "unknown command \"$1\": use up, kubeconfig or down" ;;
esac
