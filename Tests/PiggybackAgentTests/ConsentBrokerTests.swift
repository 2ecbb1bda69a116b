import Foundation
@testable import PiggybackAgent
import Testing

@Suite struct ConsentBrokerTests {
    let items = ConsentFixtures.items

    @Test func anAnswerForTheOpenQuestionIsReturnedOnce() async throws {
        let broker = ConsentBroker()
        #expect(await broker.pending() == nil)
        #expect(await broker.answer(.accept, id: nil) == false)
        let asking = Task { await broker.ask(items, timeout: .seconds(30), defaultAnswer: .defer) }
        let question = try await ConsentFixtures.pending(broker)
        #expect(question.items == items)
        #expect(question.defaultAnswer == .defer)
        #expect(question.id.count == 8)
        #expect((29...30).contains(question.secondsLeft()))
        #expect(question.totalSize == 1_234_567 + 120 << 20)

        #expect(await broker.answer(.accept, id: "other") == false)
        #expect(await broker.answer(.accept, id: question.id))
        #expect(await broker.answer(.defer, id: nil) == false)
        #expect(await broker.pending() == nil)
        #expect(await asking.value == .accept)
        #expect(await broker.answer(.defer, id: question.id) == false)
    }

    @Test func nobodyAnswersUntilTheTimeout() async {
        let broker = ConsentBroker()
        let start = ContinuousClock.now
        #expect(await broker.ask(items, timeout: .milliseconds(200)) == nil)
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(200) && elapsed < .seconds(30))
        #expect(await broker.pending() == nil)
    }

    @Test func cancellingTheAskerClosesTheQuestion() async throws {
        let broker = ConsentBroker()
        let asking = Task { await broker.ask(items, timeout: .seconds(60)) }
        let question = try await ConsentFixtures.pending(broker)
        let start = ContinuousClock.now
        asking.cancel()
        #expect(await asking.value == nil)
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(await broker.pending() == nil)
        #expect(await broker.answer(.accept, id: question.id) == false)
    }

    @Test func aNewerQuestionSupersedesAnOlderOne() async throws {
        let broker = ConsentBroker()
        let first = Task { await broker.ask(items, timeout: .seconds(60)) }
        let old = try await ConsentFixtures.pending(broker)
        let second = Task { await broker.ask(Array(items.prefix(1)), timeout: .seconds(60)) }
        #expect(await first.value == nil)
        let new = try await ConsentFixtures.pending(broker)
        #expect(new.id != old.id && new.items.count == 1)
        #expect(await broker.answer(.defer, id: new.id))
        #expect(await second.value == .defer)
    }

    @Test func controlAnswersShowAndAnswerTheQuestion() async throws {
        let broker = ConsentBroker()
        #expect(await broker.controlAnswer(to: .show) == "{\n  \"pending\" : null\n}")
        #expect(try ConsentStatus.decode(await broker.controlAnswer(to: .show)).pending == nil)
        #expect(await broker.controlAnswer(to: .answer(.accept, id: nil)).hasPrefix("error: no question about downloads is pending"))

        let asking = Task { await broker.ask(items, timeout: .seconds(30), defaultAnswer: .accept) }
        let question = try await ConsentFixtures.pending(broker)
        let json = await broker.controlAnswer(to: .show, now: question.askedAt.addingTimeInterval(10))
        let status = try ConsentStatus.decode(json)
        let pending = try #require(status.pending)
        #expect(pending.id == question.id && pending.items == items && pending.secondsLeft == 20)
        #expect(pending.defaultAnswer == .accept && pending.totalSize == question.totalSize)
        for key in ["\"askedAt\"", "\"deadline\"", "\"default\" : \"accept\"", "\"id\"", "\"items\"", "\"secondsLeft\" : 20", "\"totalSize\"", "\"reason\" : \"software.curl < 8.5\""] {
            #expect(json.contains(key), "missing \(key) in \(json)")
        }

        #expect(await broker.controlAnswer(to: .answer(.defer, id: "deadbeef0")).hasPrefix("error: question deadbeef0 is no longer open"))
        #expect(await broker.controlAnswer(to: .answer(.defer, id: question.id)) == "ok: deferred question \(question.id)")
        #expect(await asking.value == .defer)
    }
}
