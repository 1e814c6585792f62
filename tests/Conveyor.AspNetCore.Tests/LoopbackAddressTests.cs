namespace Conveyor.AspNetCore.Tests;

/// <summary>Which listening addresses a server without keys may use: those no other machine can reach.</summary>
public sealed class LoopbackAddressTests
{
    [Theory]
    [InlineData("http://127.0.0.1:8080")]
    [InlineData("http://127.0.0.2:8080")]
    [InlineData("http://[::1]:8080")]
    [InlineData("http://localhost:0")]
    [InlineData("http://unix:/run/conveyor.sock")]
    [InlineData("http://pipe:/conveyor")]
    public void ALocalAddress_IsLoopback(string address) => Assert.True(LoopbackGuard.IsLoopback(address));

    [Theory]
    [InlineData("http://0.0.0.0:8080")]
    [InlineData("http://*:8080")]
    [InlineData("http://+:8080")]
    [InlineData("http://10.1.2.3:8080")]
    [InlineData("http://conveyor.example.com:8080")]
    public void AnAddressOtherMachinesReach_IsNot(string address) => Assert.False(LoopbackGuard.IsLoopback(address));
}
