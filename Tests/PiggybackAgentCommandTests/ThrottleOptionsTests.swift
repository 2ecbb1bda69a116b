import ArgumentParser
import Foundation
import PiggybackAgent
@testable import PiggybackAgentCommand
import Testing

/// The transfer-pacing flags and what a terminal user sees of a transfer.
@Suite struct ThrottleOptionsTests {
    @Test func ratesAndFlagsMapOntoTheConfiguration() throws {
        #expect(try ThrottleOptions.rate("512K", flag: "--max-rate") == 512 * 1024)
        #expect(try ThrottleOptions.rate("2m", flag: "--max-rate") == 2 * 1_048_576)
        #expect(try ThrottleOptions.rate("1000", flag: "--max-rate") == 1000)
        for bad in ["", "K", "-1M", "fast", "0"] {
            #expect(throws: ValidationError.self, "\(bad)") { try ThrottleOptions.rate(bad, flag: "--max-rate") }
        }
        let options = try ThrottleOptions.parse(["--throttle", "off", "--max-rate", "2M", "--max-link-share", "50", "--delay-target", "10"])
        var configuration = AgentConfiguration()
        try options.apply(to: &configuration)
        #expect(configuration.throttle.enabled == false)
        #expect(configuration.throttle.controller.maxRate == 2_097_152.0)
        #expect(configuration.throttle.controller.maxShareOfLink == 0.5)
        #expect(configuration.throttle.controller.targetQueuingDelay == .milliseconds(10))
        #expect(throws: (any Error).self) { try ThrottleOptions.parse(["--throttle", "sometimes"]) }
        #expect(throws: (any Error).self) { try ThrottleOptions.parse(["--max-link-share", "0"]) }
    }

    @Test func progressLineShowsHowFarHowFastAndWhy() {
        let transfer = TransferBoard.Transfer(
            direction: "download", name: "maps-osaka@3", done: 10 << 20, total: 20 << 20, bytesPerSecond: 2 * 1_048_576,
            throttle: "", reason: RateDecision.Reason.foreignTraffic.rawValue)
        let line = ProgressBar.line(transfer, width: 10)
        #expect(line.hasPrefix("↓ maps-osaka@3 [#####.....]  50 %  10.0/20.0 MiB  2.0 MiB/s"), "\(line)")
        #expect(line.hasSuffix(RateDecision.Reason.foreignTraffic.description), "\(line)")
        var upload = transfer
        upload.direction = "upload"
        upload.reason = "off"
        upload.done = upload.total
        let done = ProgressBar.line(upload, width: 10)
        #expect(done.hasPrefix("↑ maps-osaka@3 [##########] 100 %"), "\(done)")
        #expect(done.hasSuffix("MiB/s"), "no reason when the throttle is off: \(done)")
    }

    @Test func theBoardMeasuresTheRateAndForgetsFinishedTransfers() async throws {
        let board = TransferBoard()
        await board.update("a", direction: "upload", name: "x", done: 0, total: 100, throttle: "off", reason: "off")
        try await Task.sleep(for: .milliseconds(600))
        await board.update("a", direction: "upload", name: "x", done: 60, total: 100, throttle: "off", reason: "off")
        let current = await board.current
        #expect(current.count == 1 && current[0].done == 60 && current[0].bytesPerSecond > 0)
        await board.finish("a")
        #expect(await board.current.isEmpty)
    }
}
