# Not released yet. To install from a clone: make brew-formula, then brew install --build-from-source claude-proxy/local/claude-proxy
#
# Written from packaging/homebrew/claude-proxy.rb.in by scripts/brew-formula.sh (make brew-formula:
# a formula for a clone; make release VERSION=x.y.z: the committed one). Edit the template, not
# a written formula: CTest e2e.homebrew checks that the two agree.
#
# Why h2o is built here: Homebrew's own h2o formula builds the server with its evloop backend
# and ships no libuv build of libh2o, which claude-proxy links against (Debian's libh2o-dev is
# the libuv build). So h2o 2.2.6 (the last 2.2 release: the same h2o_http1client API as
# Debian's 2.2.5) is built as a resource against Homebrew's libuv and OpenSSL 3, installed
# privately under libexec/h2o, and found through PKG_CONFIG_PATH. Nothing else uses it.
# h2o has no switch for libuv: its CMakeLists builds the libuv flavour (target libh2o) when
# pkg-config finds libuv >= 1.0, so the build checks that it did rather than pass an option.
class ClaudeProxy < Formula
  desc "Keeps Claude Code working when the Anthropic rate limit hits: falls back to AWS Bedrock"
  homepage "https://github.com/claude-proxy/claude-proxy"
  url "https://github.com/claude-proxy/claude-proxy/releases/download/v0.1.0/claude-proxy-0.1.0.tar.gz"
  version "0.1.0"
  sha256 "0000000000000000000000000000000000000000000000000000000000000000"
  license "MIT"

  depends_on "cmake" => :build
  depends_on "pkgconf" => :build
  depends_on "cjson"
  depends_on "libuv"
  depends_on "lua"
  depends_on "openssl@3"
  depends_on "sqlite"

  uses_from_macos "zlib"

  resource "h2o" do
    url "https://github.com/h2o/h2o/archive/refs/tags/v2.2.6.tar.gz"
    # the same tarball and checksum as Homebrew's own h2o formula (Formula/h/h2o.rb, 2.2.6)
    sha256 "f8cbc1b530d85ff098f6efc2c3fdbc5e29baffb30614caac59d5c710f7bda201"
  end

  def install
    h2o_prefix = libexec/"h2o"
    resource("h2o").stage do
      # h2o 2.2's CMakeLists asks for CMake 2.8.11, which CMake 4 refuses without this
      system "cmake", "-S", ".", "-B", "build", *std_cmake_args(install_prefix: h2o_prefix),
             "-DCMAKE_POLICY_VERSION_MINIMUM=3.5", "-DWITH_BUNDLED_SSL=OFF", "-DWITH_MRUBY=OFF",
             "-DBUILD_SHARED_LIBS=OFF", "-DOPENSSL_ROOT_DIR=#{Formula["openssl@3"].opt_prefix}"
      # without libuv the target would still build, as a library claude-proxy cannot link
      odie "h2o did not find libuv through pkg-config" unless File.read("build/CMakeCache.txt")
                                                                   .include?("LIBUV_FOUND:INTERNAL=1")
      system "cmake", "--build", "build", "--target", "libh2o"
      (h2o_prefix/"lib").install Dir["build/libh2o*.a"]
      (h2o_prefix/"include").install Dir["include/*"]
      (h2o_prefix/"lib/pkgconfig").mkpath
      (h2o_prefix/"lib/pkgconfig/libh2o.pc").write <<~PC
        prefix=#{h2o_prefix}
        Name: libh2o
        Description: h2o library (libuv backend)
        Version: 2.2.6
        Requires.private: libuv openssl
        Libs: -L${prefix}/lib -lh2o
        Cflags: -I${prefix}/include
      PC
    end
    ENV.prepend_path "PKG_CONFIG_PATH", h2o_prefix/"lib/pkgconfig"

    system "cmake", "-S", ".", "-B", "build", *std_cmake_args, "-DCP_WERROR=OFF",
           "-DCMAKE_INSTALL_SYSCONFDIR=#{etc}"
    system "cmake", "--build", "build"
    bin.install "build/claude-proxy"
    bin.install "packaging/proxy-claude"
    (share/"claude-proxy/lua").install Dir["lua/*.lua"]
    # etc.install never overwrites a file the user edited: Homebrew keeps it and writes
    # claude-proxy.lua.default beside it.
    (etc/"claude-proxy").install "etc/claude-proxy.lua"
  end

  # The token stays out of the plist: the proxy reads it from ~/.config/claude-proxy/token (mode
  # 0600, see caveats) at start and on reload. No --config either: the service finds its config
  # the way `claude-proxy --check`, `reload`, `doctor` and scripts/service.sh do
  # (CLAUDE_PROXY_CONFIG, ~/.config/claude-proxy/claude-proxy.lua, then #{etc}/claude-proxy/), so
  # the file those commands edit is the one it runs; /health's "config" says which.
  service do
    run [opt_bin/"claude-proxy"]
    keep_alive true
    log_path var/"log/claude-proxy.log"
    error_log_path var/"log/claude-proxy.error.log"
    environment_variables PROXY_PORT: "47000"
  end

  def caveats
    <<~EOS
      Save your Claude Code OAuth token (from `claude setup-token`) where the proxy reads it:
        mkdir -p ~/.config/claude-proxy && (umask 077 && pbpaste > ~/.config/claude-proxy/token)
      Then: brew services start claude-proxy, and run Claude Code with `proxy-claude`.
    EOS
  end

  test do
    port = free_port
    pid = spawn({ "PROXY_PORT" => port.to_s }, bin/"claude-proxy", "--config", etc/"claude-proxy/claude-proxy.lua")
    begin
      sleep 1
      assert_match "\"status\":\"ok\"", shell_output("curl -s http://127.0.0.1:#{port}/health")
      assert_match "config OK", shell_output("#{bin}/claude-proxy --check --config #{etc}/claude-proxy/claude-proxy.lua")
    ensure
      Process.kill("TERM", pid)
      Process.wait(pid)
    end
  end
end
