#!/usr/bin/perl
# An ESME on Net::SMPP (Debian's libnet-smpp-perl), written by nobody here, for the
# interoperability test of simchain's SMSC simulator. Arguments: port, destination MSISDN,
# then the hex user data of each SMS to submit (esm_class 0x40, protocol_id 0x7F,
# data_coding 0xF6, a delivery receipt asked). It prints each message id, then every
# deliver_sm it gets (receipts and MOs, user data in hex) until the line is quiet for
# three seconds, answering each with deliver_sm_resp (message_id empty, SMPP 3.4 §4.6.2).
use strict;
use warnings;
use IO::Select;
use Net::SMPP;

$| = 1;
my ($port, $dest, @parts) = @ARGV;
my ($smpp, $resp) = Net::SMPP->new_transceiver('127.0.0.1', port => $port, system_id => 'perl-op', password => 'secret', smpp_version => 0x34);
die "connect failed\n" unless $smpp;
die "bind refused: status $resp->{status}\n" unless $resp && $resp->{status} == 0;
print "bound\n";
for my $hex (@parts) {
  my $r = $smpp->submit_sm(
    source_addr_ton => 1, source_addr_npi => 1, source_addr => '4912345',
    dest_addr_ton => 1, dest_addr_npi => 1, destination_addr => $dest,
    esm_class => 0x40, protocol_id => 0x7F, data_coding => 0xF6, registered_delivery => 1,
    short_message => pack('H*', $hex),
  );
  die "submit_sm failed\n" unless $r && $r->{status} == 0;
  print "submitted $r->{message_id}\n";
}
my $select = IO::Select->new($smpp);
while ($select->can_read(3)) {
  my $pdu = $smpp->read_pdu or last;
  if ($pdu->{cmd} == 0x00000005) {    # deliver_sm
    if (($pdu->{esm_class} & 0x3C) == 0x04) {
      my $id = $pdu->{receipted_message_id} // '';
      $id =~ s/\0+$//;
      print "receipt $id $pdu->{short_message}\n";
    } else {
      printf "mo %s %s esm=%d pid=%d dcs=%d\n", $pdu->{source_addr}, unpack('H*', $pdu->{short_message}), $pdu->{esm_class}, $pdu->{protocol_id}, $pdu->{data_coding};
    }
    $smpp->deliver_sm_resp(seq => $pdu->{seq}, message_id => '');
  } elsif ($pdu->{cmd} == 0x00000015) {
    $smpp->enquire_link_resp(seq => $pdu->{seq});
  }
}
$smpp->unbind();
print "done\n";
