package spec

// The RFC sentences cases rest on, quoted from RFC 9112 and RFC 9110. A case's level is the
// keyword of its deciding sentence; ../shared/GRADING.md lists the ones most often misread.
// Quote verbatim; shorten with … only where the cut does not change the requirement.

func r9112(sec string, kw Level, text string) Sentence {
	return Sentence{Ref: "RFC 9112 §" + sec, Keyword: kw, Text: text}
}

func r9110(sec string, kw Level, text string) Sentence {
	return Sentence{Ref: "RFC 9110 §" + sec, Keyword: kw, Text: text}
}

var (
	// RFC 9112 §2.2 Message Parsing
	s9112BareLF = r9112("2.2", MAY,
		"Although the line terminator for the start-line and fields is the sequence CRLF, a recipient MAY recognize a single LF as a line terminator and ignore any preceding CR.")
	s9112BareCR = r9112("2.2", MUST,
		"A sender MUST NOT generate a bare CR (a CR character not immediately followed by LF) within any protocol elements other than the content. A recipient of such a bare CR MUST consider that element to be invalid or replace each bare CR with SP before processing the element or forwarding the message.")
	s9112LeadingCRLF = r9112("2.2", SHOULD,
		"In the interest of robustness, a server that is expecting to receive and parse a request-line SHOULD ignore at least one empty line (CRLF) received prior to the request-line.")
	s9112WSBeforeFirstField = r9112("2.2", MUST,
		"A recipient that receives whitespace between the start-line and the first header field MUST either reject the message as invalid or consume each whitespace-preceded line without further processing of it (i.e., ignore the entire line, along with any subsequent lines preceded by whitespace, until a properly formed header field is received or the header section is terminated).")
	s9112Invalid400 = r9112("2.2", SHOULD,
		"When a server listening only for HTTP request messages, or processing what appears from the start-line to be an HTTP request message, receives a sequence of octets that does not match the HTTP-message grammar aside from the robustness exceptions listed above, the server SHOULD respond with a 400 (Bad Request) response and close the connection.")

	// RFC 9112 §3 Request Line
	s9112WordBoundaries = r9112("3", MAY,
		"Although the request-line grammar rule requires that each of the component elements be separated by a single SP octet, recipients MAY instead parse on whitespace-delimited word boundaries and, aside from the CRLF terminator, treat any form of whitespace as the SP separator while ignoring preceding or trailing whitespace; such whitespace includes one or more of the following octets: SP, HTAB, VT (%x0B), FF (%x0C), or bare CR.")
	s9112InvalidRequestLine = r9112("3.2", SHOULD,
		"Recipients of an invalid request-line SHOULD respond with either a 400 (Bad Request) error or a 301 (Moved Permanently) redirect with the request-target properly encoded.")
	s9112Host400 = r9112("3.2", MUST,
		"A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1 request message that lacks a Host header field and to any request message that contains more than one Host header field line or a Host header field with an invalid field value.")

	// RFC 9112 §5 Field Syntax
	s9112WSBeforeColon = r9112("5.1", MUST,
		"A server MUST reject, with a response status code of 400 (Bad Request), any received request message that contains whitespace between a header field name and colon.")
	s9112ObsFold = r9112("5.2", MUST,
		"A server that receives an obs-fold in a request message that is not within a \"message/http\" container MUST either reject the message by sending a 400 (Bad Request), preferably with a representation explaining that obsolete line folding is unacceptable, or replace each received obs-fold with one or more SP octets prior to interpreting the field value or forwarding the message downstream.")

	// RFC 9112 §6 Message Body
	s9112CLandTE = r9112("6.1", MUST,
		"A server MAY reject a request that contains both Content-Length and Transfer-Encoding or process such a request in accordance with the Transfer-Encoding alone. Regardless, the server MUST close the connection after responding to such a request to avoid the potential attacks.")
	s9112UnknownCoding = r9112("6.1", SHOULD,
		"A server that receives a request message with a transfer coding it does not understand SHOULD respond with 501 (Not Implemented).")
	s9112ChunkedNotFinal = r9112("6.3", MUST,
		"If a Transfer-Encoding header field is present in a request and the chunked transfer coding is not the final encoding, the message body length cannot be determined reliably; the server MUST respond with the 400 (Bad Request) status code and then close the connection.")
	s9112InvalidCL = r9112("6.3", MUST,
		"If a message is received without Transfer-Encoding and with an invalid Content-Length header field, then the message framing is invalid and the recipient MUST treat it as an unrecoverable error, unless the field value can be successfully parsed as a comma-separated list (Section 5.6.1 of [HTTP]), all values in the list are valid, and all values in the list are the same (in which case, the message is processed with that single value used as the Content-Length field value). If the unrecoverable error is in a request message, the server MUST respond with a 400 (Bad Request) status code and then close the connection.")

	// RFC 9112 §9 Connection Management
	s9112PersistShould = r9112("9.3", SHOULD,
		"HTTP implementations SHOULD support persistent connections.")
	s9112NoPersistClose = r9112("9.3", MUST,
		"A server that does not support persistent connections MUST send the \"close\" connection option in every response message that does not have a 1xx (Informational) status code.")
	s9112CloseAnnounce = r9112("9.6", SHOULD,
		"A sender SHOULD send a Connection header field (Section 7.6.1 of [HTTP]) containing the \"close\" connection option when it intends to close a connection.")
	s9112CloseNoMore = r9112("9.6", MUST,
		"A server that sends a \"close\" connection option MUST initiate closure of the connection (see below) after it sends the response containing the \"close\" connection option. The server MUST NOT process any further requests received on that connection.")
	s9112CloseAnyTime = r9112("9.5", MAY,
		"A client, server, or proxy MAY close the transport connection at any time.")

	// RFC 9110
	s9110FieldTooLarge = r9110("5.4", MUST,
		"A server that receives a request header field line, field value, or set of fields larger than it wishes to process MUST respond with an appropriate 4xx (Client Error) status code.")
	s9110CRLFNULInValue = r9110("5.5", MUST,
		"Field values containing CR, LF, or NUL characters are invalid and dangerous, due to the varying ways that implementations might parse and interpret those characters; a recipient of CR, LF, or NUL within a field value MUST either reject the message or replace each of those characters with SP before further processing or forwarding of that message.")
	s9110OtherCTL = r9110("5.5", MAY,
		"Field values containing other CTL characters are also invalid; however, recipients MAY retain such characters for the sake of robustness when they appear within a safe context (e.g., an application-specific quoted string that will not be processed by any downstream HTTP parser).")
	s9110VersionShould = r9110("6.2", SHOULD,
		"A server SHOULD send a response version equal to the highest version to which the server is conformant that has a major version less than or equal to the one received in the request.")
	s9110VersionMustNot = r9110("6.2", MUST,
		"A server MUST NOT send a version to which it is not conformant.")
	s9110Date = r9110("6.6.1", MUST,
		"An origin server with a clock (as defined in Section 5.6.7) MUST generate a Date header field in all 2xx (Successful), 3xx (Redirection), and 4xx (Client Error) responses, and MAY generate a Date header field in 1xx (Informational) and 5xx (Server Error) responses.")
	s9110UnknownMethod = r9110("9.1", SHOULD,
		"An origin server that receives a request method that is unrecognized or not implemented SHOULD respond with the 501 (Not Implemented) status code. An origin server that receives a request method that is recognized and implemented, but not allowed for the target resource, SHOULD respond with the 405 (Method Not Allowed) status code.")
	s9110Allow405 = r9110("15.5.6", MUST,
		"The origin server MUST generate an Allow header field in a 405 response containing a list of the target resource's currently supported methods.")
	s9110HeadNoContent = r9110("9.3.2", MUST,
		"The HEAD method is identical to GET except that the server MUST NOT send content in the response.")
)

// The sentences package conformance's robustness scenarios rest on: the catalogue's own
// values, so each quote lives in one place.
var (
	SentencePipelineOrder = s9112PipelineOrder // responses in request order
	SentenceCloseNoMore   = s9112CloseNoMore   // nothing is owed after an announced close
	SentenceCloseAnyTime  = s9112CloseAnyTime  // a close is legal at any time
	SentenceInvalid400    = s9112Invalid400    // a syntax error gets 400 and a close
	SentenceFieldTooLarge = s9110FieldTooLarge // a head too large gets a 4xx
	SentenceOctets        = s9112Octets        // a message is octets, however TCP cuts them
	SentenceCLFrames      = s9112CLFrames      // Content-Length frames the body
	SentenceSenderGrammar = s9110SenderGrammar // what a malformed status line breaks
)
