# A small stand-in for Homebrew's formula DSL, so a formula can be evaluated on Linux without
# Homebrew (tests/e2e/homebrew.test.mjs). It is no Homebrew: it knows the methods our formula uses
# and fails with "the stub lacks ..." on any other, so a formula that starts using one has to
# extend it here. What it mirrors, from Homebrew/brew (6.0.18):
# - the file is evaluated in a fresh module and must define the class Formulary.class_s makes of
#   the file's name (claude-proxy.rb -> ClaudeProxy), a subclass of Formula;
# - `service do` is evaluated in a Service whose only formula paths are the ones Homebrew's
#   Homebrew::Service delegates (bin etc libexec opt_bin opt_libexec opt_pkgshare opt_prefix
#   opt_sbin var), and it records run/keep_alive/log paths/environment as Service does (strings);
# - `test do` runs, with --test, the way Formula#run_test does: HOME and XDG_CONFIG_HOME in a fresh
#   test path, an environment with nothing of the user's but PATH.
#
#   ruby homebrew-dsl.rb FORMULA              prints JSON: the class's DSL values, the service,
#                                             the caveats, whether there is a test block, and a
#                                             dry run of install (commands and installed files)
#   ruby homebrew-dsl.rb FORMULA --test PREFIX   runs the test block, HOMEBREW_PREFIX=PREFIX and
#                                             the keg PREFIX/Cellar/<name>/<version>; exit 0 if it passes
require 'json'
require 'pathname'
require 'socket'
require 'tmpdir'
require 'open3'

class StubError < StandardError; end

def lacks(what)
  raise StubError, "the stub lacks #{what}: add it to tests/e2e/lib/homebrew-dsl.rb"
end

# Paths as Homebrew's Pathname extensions use them; install/mkpath/write only record (a dry run
# must not write under a Homebrew prefix).
class StubPath < Pathname
  def +(other) = StubPath.new(super)
  alias / +
  # Homebrew's Pathname has it (extend/pathname.rb), so spawn and system take paths
  alias to_str to_s

  def install(*sources)
    $record[:installs] << { 'into' => to_s, 'sources' => sources.flatten.map(&:to_s) }
  end

  def mkpath
    $record[:mkpaths] << to_s
  end

  def write(content)
    $record[:writes] << { 'path' => to_s, 'content' => content.to_s }
  end
end

$record = { system: [], installs: [], mkpaths: [], writes: [] }
$prefix = StubPath.new(ENV.fetch('CP_BREW_PREFIX', '/opt/homebrew'))

class Formula
  class << self
    attr_reader :dsl, :deps, :resources, :service_block, :test_block

    def inherited(sub)
      super
      sub.instance_variable_set(:@dsl, {})
      sub.instance_variable_set(:@deps, [])
      sub.instance_variable_set(:@resources, {})
    end

    %i[desc homepage version sha256 license].each do |m|
      define_method(m) { |v| @dsl[m.to_s] = v }
    end

    def url(value, **specs)
      @dsl['url'] = value
      @dsl['url_specs'] = specs unless specs.empty?
    end

    def head(value, **specs)
      @dsl['head'] = value
    end

    def depends_on(dep)
      name, tags = dep.is_a?(Hash) ? dep.first : [dep, nil]
      @deps << { 'name' => name.to_s, 'tags' => Array(tags).map(&:to_s), 'macos' => false }
    end

    def uses_from_macos(name, *)
      @deps << { 'name' => name.to_s, 'tags' => [], 'macos' => true }
    end

    def resource(name, &block)
      r = StubResource.new(name)
      r.instance_eval(&block)
      @resources[name] = r
    end

    def service(&block) = @service_block = block
    def test(&block) = @test_block = block

    def method_missing(name, *)
      lacks("the formula DSL method #{name}")
    end

    def respond_to_missing?(*) = false
  end

  # Formula["openssl@3"]
  def self.[](name) = OtherFormula.new(name)

  attr_reader :name

  def initialize(name)
    @name = name
  end

  def version = self.class.dsl['version']
  def prefix = $prefix / 'Cellar' / name / version
  def bin = prefix / 'bin'
  def libexec = prefix / 'libexec'
  def share = prefix / 'share'
  def pkgshare = share / name
  def opt_prefix = $prefix / 'opt' / name
  def opt_bin = opt_prefix / 'bin'
  def opt_libexec = opt_prefix / 'libexec'
  def opt_pkgshare = opt_prefix / 'share' / name
  def opt_sbin = opt_prefix / 'sbin'
  def etc = $prefix / 'etc'
  def var = $prefix / 'var'
  def testpath = @testpath || lacks('testpath outside the test block')

  # Formula#std_cmake_args as of 6.0.18 (formula.rb)
  def std_cmake_args(install_prefix: prefix, install_libdir: 'lib', find_framework: 'LAST')
    %W[-DCMAKE_INSTALL_PREFIX=#{install_prefix} -DCMAKE_INSTALL_LIBDIR=#{install_libdir}
       -DCMAKE_BUILD_TYPE=Release -DCMAKE_FIND_FRAMEWORK=#{find_framework} -DCMAKE_VERBOSE_MAKEFILE=ON
       -Wno-dev -DBUILD_TESTING=OFF -DCCACHE_FOUND=OFF]
  end

  def resource(name) = self.class.resources.fetch(name) { lacks("a resource #{name}") }

  def system(*args)
    lacks('system outside install') unless @installing
    $record[:system] << args.map(&:to_s)
  end

  def odie(msg) = raise(StubError, "odie: #{msg}")

  def method_missing(name, *)
    lacks("Formula##{name}")
  end

  def respond_to_missing?(*) = false

  # the test block's helpers (Homebrew's come from Minitest and Formula)
  def free_port
    s = TCPServer.new('127.0.0.1', 0)
    s.addr[1]
  ensure
    s&.close
  end

  def shell_output(cmd, result = 0)
    out, status = Open3.capture2e(cmd)
    raise StubError, "`#{cmd}` exited #{status.exitstatus}, not #{result}:\n#{out}" unless status.exitstatus == result

    out
  end

  def assert_match(expected, actual)
    ok = expected.is_a?(Regexp) ? expected.match?(actual) : actual.to_s.include?(expected.to_s)
    raise StubError, "expected #{actual.inspect} to match #{expected.inspect}" unless ok
  end

  def assert_equal(expected, actual)
    raise StubError, "expected #{expected.inspect}, got #{actual.inspect}" unless expected == actual
  end

  def dry_install
    @installing = true
    install
  ensure
    @installing = false
  end

  def run_test
    Dir.mktmpdir("#{name}-test") do |dir|
      @testpath = StubPath.new(dir)
      keep = ENV.to_h.slice('PATH', 'LANG')
      ENV.replace(keep.merge('HOME' => dir, 'XDG_CONFIG_HOME' => "#{dir}/.config", 'TMPDIR' => Dir.tmpdir,
                             'TERM' => 'dumb'))
      Dir.chdir(dir) { instance_eval(&self.class.test_block) }
    end
  end
end

class OtherFormula
  def initialize(name) = @name = name
  def opt_prefix = $prefix / 'opt' / @name
  def opt_lib = opt_prefix / 'lib'
  def opt_include = opt_prefix / 'include'
end

class StubResource
  attr_reader :name, :values

  def initialize(name)
    @name = name
    @values = {}
  end

  def url(value, **) = @values['url'] = value
  def sha256(value) = @values['sha256'] = value
  def version(value) = @values['version'] = value

  # a dry stage: a fresh directory, holding what h2o's configure leaves when it found libuv
  # (the formula reads build/CMakeCache.txt there), no sources
  def stage
    Dir.mktmpdir("stage-#{name}") do |dir|
      Dir.chdir(dir) do
        Dir.mkdir('build')
        File.write('build/CMakeCache.txt', "LIBUV_FOUND:INTERNAL=1\n")
        yield
      end
    end
  end

  def method_missing(name, *)
    lacks("the resource DSL method #{name}")
  end

  def respond_to_missing?(*) = false
end

def ENV.prepend_path(key, path)
  self[key] = [path.to_s, self[key]].compact.reject(&:empty?).join(File::PATH_SEPARATOR)
end

# Homebrew::Service: the block sees the formula only through these (service.rb's delegate list)
class StubService
  DELEGATED = %i[bin etc libexec opt_bin opt_libexec opt_pkgshare opt_prefix opt_sbin var].freeze
  attr_reader :values

  def initialize(formula, &block)
    @formula = formula
    @values = {}
    instance_eval(&block)
  end

  DELEGATED.each { |m| define_method(m) { @formula.public_send(m) } }

  def run(command = nil, macos: nil, linux: nil)
    command ||= macos
    @values['run'] = command.is_a?(Array) ? command.map(&:to_s) : [command.to_s]
  end

  def keep_alive(value) = @values['keep_alive'] = value.is_a?(Hash) ? value : { 'always' => value }
  def log_path(path) = @values['log_path'] = path.to_s
  def error_log_path(path) = @values['error_log_path'] = path.to_s
  def working_dir(path) = @values['working_dir'] = path.to_s
  def run_type(type) = @values['run_type'] = type.to_s
  def process_type(type) = @values['process_type'] = type.to_s
  def environment_variables(vars = {}) = @values['environment_variables'] = vars.transform_values(&:to_s)

  def method_missing(name, *)
    lacks("Service##{name} (or the formula's #{name}, which a service block cannot see)")
  end

  def respond_to_missing?(*) = false
end

# Formulary.class_s as of 6.0.18
def class_s(name)
  c = name.capitalize
  c.gsub!(/[-_.\s]([a-zA-Z0-9])/) { Regexp.last_match(1).upcase }
  c.tr!('+', 'x')
  c.sub!(/(.)@(\d)/, '\\1AT\\2')
  c
end

file, mode, test_prefix = ARGV
abort 'usage: homebrew-dsl.rb FORMULA [--test PREFIX]' unless file && (mode.nil? || (mode == '--test' && test_prefix))
name = File.basename(file, '.rb')
mod = Module.new
mod.module_eval(File.read(file), file)
klass = mod.const_get(class_s(name), false) rescue abort("#{file} defines no class #{class_s(name)}")
abort "#{class_s(name)} is not a Formula" unless klass < Formula

if mode == '--test'
  $prefix = StubPath.new(File.expand_path(test_prefix))
  abort "#{file} has no test block" unless klass.test_block
  klass.new(name).run_test
  puts 'test block passed'
  exit 0
end

f = klass.new(name)
out = {
  'class' => klass.name.split('::').last, 'name' => name, 'dsl' => klass.dsl, 'deps' => klass.deps,
  'resources' => klass.resources.transform_values(&:values),
  'service' => klass.service_block && StubService.new(f, &klass.service_block).values,
  'opt_bin' => f.opt_bin.to_s, 'etc' => f.etc.to_s, 'var' => f.var.to_s, 'bin' => f.bin.to_s,
  'test' => !klass.test_block.nil?,
  'caveats' => f.respond_to?(:caveats) ? f.caveats : nil
}
f.dry_install
out['install'] = $record.transform_keys(&:to_s)
puts JSON.pretty_generate(out)
