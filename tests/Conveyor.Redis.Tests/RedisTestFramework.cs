using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: TestFramework("Conveyor.Redis.Tests.RedisTestFramework", "Conveyor.Redis.Tests")]

namespace Conveyor.Redis.Tests;

/// <summary>
/// xunit 2 has no dynamic skip, and the conformance tests carry the suite's own [Fact]s. So that they behave as
/// <see cref="RedisFactAttribute"/> does (skipped with the reason outside CI when Redis is absent, never skipped
/// in CI), discovery turns every test case of this assembly into a skipped one in exactly that situation.
/// </summary>
public sealed class RedisTestFramework(IMessageSink messageSink) : XunitTestFramework(messageSink)
{
    protected override ITestFrameworkDiscoverer CreateDiscoverer(IAssemblyInfo assemblyInfo) =>
        new Discoverer(assemblyInfo, SourceInformationProvider, DiagnosticMessageSink);

    private sealed class Discoverer(IAssemblyInfo assemblyInfo, ISourceInformationProvider sourceProvider, IMessageSink diagnosticMessageSink)
        : XunitTestFrameworkDiscoverer(assemblyInfo, sourceProvider, diagnosticMessageSink)
    {
        protected override bool FindTestsForType(ITestClass testClass, bool includeSourceInformation, IMessageBus messageBus, ITestFrameworkDiscoveryOptions discoveryOptions)
        {
            if (RedisTestEnvironment.InCi || RedisTestEnvironment.Unavailable is not { } reason)
            {
                return base.FindTestsForType(testClass, includeSourceInformation, messageBus, discoveryOptions);
            }

            using var skipping = new SkippingMessageBus(messageBus, reason, DiagnosticMessageSink, discoveryOptions);
            return base.FindTestsForType(testClass, includeSourceInformation, skipping, discoveryOptions);
        }
    }

    private sealed class SkippingMessageBus(IMessageBus inner, string reason, IMessageSink diagnosticMessageSink, ITestFrameworkDiscoveryOptions options) : IMessageBus
    {
        public bool QueueMessage(IMessageSinkMessage message)
        {
            if (message is ITestCaseDiscoveryMessage { TestCase: IXunitTestCase testCase } && string.IsNullOrEmpty(testCase.SkipReason))
            {
                var skipped = new XunitSkippedDataRowTestCase(
                    diagnosticMessageSink,
                    options.MethodDisplayOrDefault(),
                    options.MethodDisplayOptionsOrDefault(),
                    testCase.TestMethod,
                    reason,
                    testCase.TestMethodArguments);
                return inner.QueueMessage(new TestCaseDiscoveryMessage(skipped));
            }

            return inner.QueueMessage(message);
        }

        public void Dispose()
        {
        }
    }
}
