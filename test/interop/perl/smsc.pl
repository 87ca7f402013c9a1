#!/usr/bin/perl
# A small SMSC on Net::SMPP (Debian's libnet-smpp-perl), written by nobody here, for the
# interoperability test of simchain's ESME. It accepts one bind_transceiver (system_id
# perl-op, password secret; anything else is refused with ESME_RINVPASWD), answers every
# submit_sm with a message id, prints its user data in hex, and sends back a delivery
# receipt (SMPP 3.4 Appendix B text and TLVs) and an MO deliver_sm carrying the binary user
# data given as the first argument. Every line it prints is one event for the test to read.
use strict;
use warnings;
use Net::SMPP;

$| = 1;
my $mo_hex = shift // '';
my $listen = Net::SMPP->new_listen('127.0.0.1', port => 0, async => 1, smpp_version => 0x34) or die "listen: $!";
print "port ", $listen->sockport, "\n";

my $n = 0;
while (my $conn = $listen->accept) {
  while (defined(my $pdu = $conn->read_pdu)) {
    my $cmd = $pdu->{cmd};
    if ($cmd == 0x00000009) {    # bind_transceiver
      my $ok = $pdu->{system_id} eq 'perl-op' && $pdu->{password} eq 'secret';
      $conn->bind_transceiver_resp(seq => $pdu->{seq}, status => ($ok ? 0 : 0x0E), system_id => 'perl-smsc');
      print "bind $pdu->{system_id} ", ($ok ? 'ok' : 'refused'), "\n";
      last unless $ok;
    } elsif ($cmd == 0x00000004) {    # submit_sm
      my $id = sprintf('perl%06d', ++$n);
      my $ud = defined $pdu->{message_payload} && length $pdu->{message_payload} ? $pdu->{message_payload} : $pdu->{short_message};
      printf "submit %s %s esm=%d pid=%d dcs=%d rd=%d dest=%s\n", $id, unpack('H*', $ud), $pdu->{esm_class}, $pdu->{protocol_id},
        $pdu->{data_coding}, $pdu->{registered_delivery}, $pdu->{destination_addr};
      $conn->submit_sm_resp(seq => $pdu->{seq}, message_id => $id);
      $conn->deliver_sm(
        source_addr_ton => 1, source_addr_npi => 1, source_addr => $pdu->{destination_addr},
        dest_addr_ton => $pdu->{source_addr_ton}, dest_addr_npi => $pdu->{source_addr_npi}, destination_addr => $pdu->{source_addr},
        esm_class => 0x04, data_coding => 0,
        short_message => "id:$id sub:001 dlvrd:001 submit date:2606010000 done date:2606010000 stat:DELIVRD err:000 text:",
        receipted_message_id => "$id\0", message_state => pack('C', 2),
      );
      $conn->deliver_sm(
        source_addr_ton => 1, source_addr_npi => 1, source_addr => $pdu->{destination_addr},
        dest_addr_ton => $pdu->{source_addr_ton}, dest_addr_npi => $pdu->{source_addr_npi}, destination_addr => $pdu->{source_addr},
        esm_class => 0x40, protocol_id => 0x7F, data_coding => 0xF6, short_message => pack('H*', $mo_hex),
      ) if length $mo_hex;
    } elsif ($cmd == 0x80000005) {    # deliver_sm_resp
      print "deliver_sm_resp seq=$pdu->{seq} status=$pdu->{status}\n";
    } elsif ($cmd == 0x00000015) {    # enquire_link
      $conn->enquire_link_resp(seq => $pdu->{seq});
    } elsif ($cmd == 0x00000006) {    # unbind
      $conn->unbind_resp(seq => $pdu->{seq});
      print "unbind\n";
      last;
    }
  }
  close $conn;
}
